/* The Lua scripts of the Redis store: each is one cross-instance invariant,
 * run atomically by Redis (no read-then-write race between instances).
 *
 * Keys (C = cluster, H = the normalised message id's 128-bit hash as 22
 * base64url characters, G = an MO group's hash, I = an MO identity's hash):
 *   smsmux:{C:H}:c        correlation: mask \37 owner \37 part \37 parts \37 mt \37 app
 *                         (mask: DR states routed and "shown final", see
 *                         PRELUDE; mt: hash of the app id, names the merge
 *                         record; empty for a single-part MT), or "P"
 *                         while DRs are parked for H and no correlation came
 *                         (the placeholder tells the correlation write's SET
 *                         NX GET to run lua_corr: no EXISTS of :p per MT)
 *   smsmux:{C:H}:p        DRs parked for H: rx-instance \37 state \37 payload
 *   smsmux:{C:H}:a        set: H's id under other SMSCs' msgid_norm rules (tags)
 *   smsmux:{C:H}:d<state> DR dedup (window) while no correlation is known
 *   smsmux:{C:m:OWNER:mt}:m  multipart MT: part -> final state
 *   smsmux:{C:g:G}:g      MO group: p<seq> -> part bytes, h -> header
 *   smsmux:{C:g:G}:d:I    MO part dedup;  smsmux:{C:o:I}  single MO dedup
 *   smsmux:{C}:s:NAME     instance NAME's stream (consumer group "g")
 *   smsmux:{C}:parked     zset H -> park deadline;  smsmux:{C}:groups  G -> deadline
 *   smsmux:{C}:inst       hash NAME -> last heartbeat (ms)
 *   smsmux:{C}:gen        the data set's generation: a random id made when
 *                         missing (rstore_fence.c)
 *   smsmux:{C}:epoch      hash NAME -> the last epoch instance NAME wrote
 *                         (rstore_epoch.c: tells a data set rolled back)
 * The keys of one message id (or MO group) share a hash tag; the scripts
 * also touch the per-cluster stream and index keys, which a Redis Cluster
 * would need moved out of the scripts (docs/scale-out.md).
 *
 * ARGV common to every script but the DR scripts (their own, shorter lists):
 * 1 cluster, 2 now (ms), 3 correlation TTL, 4 this instance. Payloads are
 * built and parsed in C (rstore_ev.c); the scripts only carry them. */
#include "store/rstore_int.h"

/* Every script runs its whole body per call: so the prelude builds no
 * table and no key helper, and route() keeps the merge-rank table to the
 * multipart branch (single-part DRs are the common case).
 *
 * The correlation value starts with a mask (decimal): bit s set once a DR
 * of state s (0-14) was routed for it, bit 15 once a single-part MT was
 * shown final. So a correlated DR's dedup and "first final" are one read
 * and one overwrite (KEEPTTL) of the key the DR needs anyway, instead of
 * two new keys with their own TTLs (SET NX of a dedup key and of a final
 * marker: most of Redis's cost per DR was creating keys). Everything that
 * routes (the DR script, the correlation script for parked DRs, the park
 * sweep) tests and sets the bit in the same atomic script, so a DR routed
 * by one is a duplicate for the others. A DR with no correlation yet is
 * deduplicated by its dedup key (dedup_window_ms) while parked.
 * route() returns the new value, or nil for a duplicate. */
#define ROUTE                                                                              \
        "local CPAT = '^(%d*)\\31([^\\31]*)\\31([^\\31]*)\\31([^\\31]*)\\31([^\\31]*)\\31'\n" \
        "local function route(cv, st, pl)\n"                                               \
        "  local ms, owner, part, np, mt = string.match(cv, CPAT)\n"                       \
        "  if not ms then\n"                                                               \
        /* a value written by the previous version: no mask */                          \
        "    ms, owner, part, np, mt = string.match('\\31' .. cv, CPAT)\n"                \
        "    if not ms then return cv end\n"                                               \
        "    cv = '\\31' .. cv\n"                                                         \
        "  end\n"                                                                          \
        "  local mask = tonumber(ms) or 0\n"                                               \
        "  local s = tonumber(st)\n"                                                       \
        "  if s and s >= 0 and s < 15 then\n"                                              \
        "    local b = 2 ^ s\n"                                                            \
        "    if bit.band(mask, b) ~= 0 then return nil end\n"                              \
        "    mask = mask + b\n"                                                            \
        "  end\n"                                                                          \
        "  local fin, mst = '0', '0'\n"                                                    \
        /* final states: 2-5, 7, 8 (ENROUTE 1 and ACCEPTED 6 are not) */                 \
        "  if s and s >= 2 and s <= 8 and s ~= 6 then\n"                                   \
        "    if (tonumber(np) or 1) <= 1 then\n"                                           \
        "      if bit.band(mask, 32768) == 0 then\n"                                       \
        "        fin = '1'; mst = st; mask = mask + 32768\n"                               \
        "      end\n"                                                                      \
        "    else\n"                                                                       \
        /* merge order of final states: DELIVERED < UNKNOWN < DELETED < EXPIRED <       \
         * UNDELIVERABLE < REJECTED */                                                  \
        "      local RANK = {[2]=0, [7]=1, [4]=2, [3]=3, [5]=4, [8]=5}\n"                  \
        "      local mk = 'smsmux:{' .. C .. ':m:' .. owner .. ':' .. mt .. '}:m'\n"       \
        "      if redis.call('HSETNX', mk, part, st) == 1 then\n"                          \
        "        redis.call('PEXPIRE', mk, TTL)\n"                                         \
        "        if redis.call('HLEN', mk) >= tonumber(np) then\n"                         \
        "          local wr = -1\n"                                                        \
        "          for _, v in ipairs(redis.call('HVALS', mk)) do\n"                       \
        "            local r = RANK[tonumber(v)]\n"                                        \
        "            if r and r > wr then wr = r; mst = v end\n"                           \
        "          end\n"                                                                  \
        "          fin = '1'\n"                                                            \
        "        end\n"                                                                    \
        "      end\n"                                                                      \
        "    end\n"                                                                        \
        "  end\n"                                                                          \
        "  local ncv = mask .. string.sub(cv, #ms + 1)\n"                                  \
        "  redis.call('XADD', 'smsmux:{' .. C .. '}:s:' .. owner, '*', 'v',\n"              \
        "    'D' .. fin .. mst .. '\\31' .. pl .. ncv)\n"                                  \
        "  return ncv\n"                                                                   \
        "end\n"

/* ARGV 1-4 common to the rarer scripts; the DR script (the one run per DR)
 * takes fewer arguments and sets C and TTL itself. */
#define PRELUDE                                                                            \
        "local C = ARGV[1]\n"                                                              \
        "local TTL = ARGV[3]\n"                                                            \
        "local ME = ARGV[4]\n"                                                             \
        ROUTE

/* the key helpers of the rarer scripts (sweeps, MOs, late correlations) */
#define KEYS_HELPERS                                                                       \
        "local function kh(h, s) return 'smsmux:{' .. C .. ':' .. h .. '}:' .. s end\n"     \
        "local function kc(s) return 'smsmux:{' .. C .. '}:' .. s end\n"                   \
        "local NOW = tonumber(ARGV[2])\n"                                                  \
        "local function split3(it)\n"                                                      \
        "  return string.match(it, '^([^\\31]*)\\31([^\\31]*)\\31(.*)$')\n"               \
        "end\n"

/* resp arrived and DRs are parked for it (the key held the placeholder
 * "P"), or the correlation key held another MT's value: KEYS 1 corr,
 * 2 park; ARGV 5 value (mask 0), 6 H.
 * Keeps the stored value (and its mask) when it is this MT's, else stores
 * this one; routes every DR parked for it (each once: the mask). */
static const char lua_corr[] = PRELUDE KEYS_HELPERS
        "local function body(v) return string.sub(v, (string.find(v, '\\31', 1, true) or 0) + 1) end\n"
        "local cv = redis.call('GET', KEYS[1])\n"
        "if not cv or body(cv) ~= body(ARGV[5]) then\n"
        "  redis.call('SET', KEYS[1], ARGV[5], 'PX', TTL)\n"
        "  cv = ARGV[5]\n"
        "end\n"
        "local items = redis.call('LRANGE', KEYS[2], 0, -1)\n"
        "if #items == 0 then return 0 end\n"
        "local cv0, n = cv, 0\n"
        "for _, it in ipairs(items) do\n"
        "  local rx, st, pl = split3(it)\n"
        "  if rx then\n"
        "    local r = route(cv, st, pl)\n"
        "    if r then cv = r; n = n + 1 end\n"
        "  end\n"
        "end\n"
        "if cv ~= cv0 then redis.call('SET', KEYS[1], cv, 'KEEPTTL') end\n"
        "redis.call('DEL', KEYS[2], kh(ARGV[6], 'a'))\n"
        "redis.call('ZREM', kc('parked'), ARGV[6])\n"
        "return n\n";

/* DR arrived. dr1() is one DR's invariant; lua_dr runs it for one DR,
 * lua_dr_many for up to RS_DR_GROUP DRs without other rules' keys in one
 * call (the call itself and each argument cost Redis more than the work
 * inside: bench/README.md). dr1(K, st, pl, a0, a1): K the correlation key
 * smsmux:{C:H}:c, KEYS[a0..a1] the id's correlation keys under the other
 * SMSCs' msgid_norm rules; returns 0 duplicate, 1 routed, 2 parked, 4
 * routed through another SMSC's rules. C and H are cut from the key (H,
 * rs_tag, is always 22 characters); the dedup (:d<state>), park (:p) and
 * tags (:a) keys share its hash tag. REST is what only a DR that parks
 * needs: now \37 dedup window \37 park timeout \37 this instance. A
 * correlated DR is deduplicated by the mask of the correlation it was
 * routed by; a state outside 0-14 (none today) and a DR that parks by its
 * dedup key. A DR that parks leaves the placeholder "P" in the correlation
 * key (read as no correlation by every script), which the correlation
 * write's SET NX GET returns. A parked DR with other rules keeps their
 * tags (H's :a) for the park sweep's last look (a correlation written
 * under them later: found at the timeout, as the in-process store does). */
#define DR_ONE                                                                             \
        "local function dr1(K, st, pl, a0, a1)\n"                                          \
        "  local cv = redis.call('GET', K)\n"                                              \
        "  local ck, ret = K, 1\n"                                                         \
        "  if cv == 'P' then cv = nil end\n"                                               \
        "  if not cv then\n"                                                               \
        "    for i = a0, a1 do\n"                                                          \
        "      cv = redis.call('GET', KEYS[i])\n"                                          \
        "      if cv == 'P' then cv = nil end\n"                                           \
        "      if cv then ck = KEYS[i]; ret = 4; break end\n"                              \
        "    end\n"                                                                        \
        "  end\n"                                                                          \
        "  local s = tonumber(st)\n"                                                       \
        "  if cv and s and s >= 0 and s < 15 then\n"                                       \
        "    local r = route(cv, st, pl)\n"                                                \
        "    if not r then return 0 end\n"                                                 \
        "    if r ~= cv then redis.call('SET', ck, r, 'KEEPTTL') end\n"                    \
        "    return ret\n"                                                                 \
        "  end\n"                                                                          \
        "  local now, win, park, me = string.match(REST, '^(%d+)\\31(%d+)\\31(%d+)\\31(.*)$')\n" \
        "  if not now then error('bad DR arguments') end\n"                               \
        "  local base = string.sub(K, 1, -2)\n"                                            \
        "  if not redis.call('SET', base .. 'd' .. st, '1', 'NX', 'PX', win) then return 0 end\n" \
        "  if cv then\n"                                                                   \
        "    local r = route(cv, st, pl)\n"                                                \
        "    if not r then return 0 end\n"                                                 \
        "    if r ~= cv then redis.call('SET', ck, r, 'KEEPTTL') end\n"                    \
        "    return ret\n"                                                                 \
        "  end\n"                                                                          \
        "  redis.call('RPUSH', base .. 'p', me .. '\\31' .. st .. '\\31' .. pl)\n"          \
        "  redis.call('PEXPIRE', base .. 'p', TTL)\n"                                      \
        "  redis.call('SET', K, 'P', 'PX', TTL)\n"                                         \
        "  if a1 >= a0 then\n"                                                             \
        "    for i = a0, a1 do redis.call('SADD', base .. 'a', string.sub(KEYS[i], -25, -4)) end\n" \
        "    redis.call('PEXPIRE', base .. 'a', TTL)\n"                                    \
        "  end\n"                                                                          \
        "  redis.call('ZADD', 'smsmux:{' .. C .. '}:parked', 'NX', tonumber(now) + tonumber(park),\n" \
        "    string.sub(K, -25, -4))\n"                                                    \
        "  return 2\n"                                                                     \
        "end\n"

/* One DR: KEYS 1 its correlation key, 2.. under the other rules; ARGV 1
 * state, 2 payload, 3 correlation TTL, 4 REST. Returns dr1's code. */
static const char lua_dr[] =
        "local C = string.sub(KEYS[1], 9, -27)\n"
        "local TTL, REST = ARGV[3], ARGV[4]\n"
        ROUTE DR_ONE
        "return dr1(KEYS[1], ARGV[1], ARGV[2], 2, #KEYS)\n";

/* DRs without other rules' keys: KEYS their correlation keys (one
 * cluster); ARGV 1 correlation TTL, 2 REST, then state, payload per DR.
 * Returns dr1's code per DR, in order. */
static const char lua_dr_many[] =
        "local C = string.sub(KEYS[1], 9, -27)\n"
        "local TTL, REST = ARGV[1], ARGV[2]\n"
        ROUTE DR_ONE
        "local out = {}\n"
        "for i = 1, #KEYS do out[i] = dr1(KEYS[i], ARGV[2 * i + 1], ARGV[2 * i + 2], 1, 0) end\n"
        "return out\n";

/* Parked past their timeout: ARGV 5 limit (ids). Routed if the correlation
 * came meanwhile (each once: the mask), else uncorrelated to the instance
 * that received them. Returns {DRs released, ids swept}: ids = limit tells
 * the store thread that more may be due (it sweeps again next turn,
 * rstore_batch.c). */
static const char lua_park_sweep[] = PRELUDE KEYS_HELPERS
        "local hs = redis.call('ZRANGEBYSCORE', kc('parked'), '-inf', NOW, 'LIMIT', 0, ARGV[5])\n"
        "local n = 0\n"
        "for _, h in ipairs(hs) do\n"
        "  local pk = kh(h, 'p')\n"
        "  local ch = h\n"
        "  local cv = redis.call('GET', kh(h, 'c'))\n"
        "  local ph = cv == 'P'\n"
        "  if ph then cv = nil end\n"
        /* the id under other SMSCs' rules (lua_dr's :a), one last look */
        "  if not cv then\n"
        "    for _, a in ipairs(redis.call('SMEMBERS', kh(h, 'a'))) do\n"
        "      cv = redis.call('GET', kh(a, 'c'))\n"
        "      if cv == 'P' then cv = nil end\n"
        "      if cv then ch = a; break end\n"
        "    end\n"
        "  end\n"
        "  local cv0 = cv\n"
        "  for _, it in ipairs(redis.call('LRANGE', pk, 0, -1)) do\n"
        "    local rx, st, pl = split3(it)\n"
        "    if rx then\n"
        "      if cv then\n"
        "        local r = route(cv, st, pl)\n"
        "        if r then cv = r; n = n + 1 end\n"
        "      else\n"
        "        redis.call('XADD', kc('s:' .. rx), '*', 'v', 'U00\\31' .. pl)\n"
        "        n = n + 1\n"
        "      end\n"
        "    end\n"
        "  end\n"
        "  if cv ~= cv0 then redis.call('SET', kh(ch, 'c'), cv, 'KEEPTTL') end\n"
        "  redis.call('DEL', pk, kh(h, 'a'))\n"
        "  if ph then redis.call('DEL', kh(h, 'c')) end\n"
        "  redis.call('ZREM', kc('parked'), h)\n"
        "end\n"
        "return {n, #hs}\n";

/* Single MO: KEYS 1 dedup; ARGV 5 payload, 6 window. 0 duplicate, 1 queued. */
static const char lua_mo_one[] = PRELUDE KEYS_HELPERS
        "if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[6]) then return 0 end\n"
        "redis.call('XADD', kc('s:' .. ME), '*', 't', 'M', 'r', ARGV[5], 'x', ME)\n"
        "return 1\n";

/* MO part: KEYS 1 dedup, 2 group; ARGV 5 seq, 6 bytes, 7 total, 8 header,
 * 9 G, 10 window, 11 reassembly timeout. 0 duplicate, 1 complete (queued
 * on this instance's stream), 2 held, 3 a second copy of a held part. */
static const char lua_mo_part[] = PRELUDE KEYS_HELPERS
        "if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[10]) then return 0 end\n"
        "if redis.call('HSETNX', KEYS[2], 'p' .. ARGV[5], ARGV[6]) == 0 then return 3 end\n"
        "redis.call('HSETNX', KEYS[2], 'h', ARGV[8])\n"
        "redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[11]) * 4 + 60000)\n"
        "local total = tonumber(ARGV[7])\n"
        "if redis.call('HLEN', KEYS[2]) - 1 < total then\n"
        "  redis.call('ZADD', kc('groups'), 'NX', NOW + tonumber(ARGV[11]), ARGV[9])\n"
        "  return 2\n"
        "end\n"
        "local parts = {}\n"
        "for i = 1, total do parts[i] = redis.call('HGET', KEYS[2], 'p' .. i) or '' end\n"
        "local hdr = redis.call('HGET', KEYS[2], 'h')\n"
        "redis.call('DEL', KEYS[2])\n"
        "redis.call('ZREM', kc('groups'), ARGV[9])\n"
        "redis.call('XADD', kc('s:' .. ME), '*', 't', 'G', 'h', hdr, 'n', total,\n"
        "  'r', table.concat(parts), 'x', ME)\n"
        "return 1\n";

/* MO groups past their timeout: ARGV 5 limit. Each becomes one partial MO
 * on this instance's stream. */
static const char lua_group_sweep[] = PRELUDE KEYS_HELPERS
        "local gs = redis.call('ZRANGEBYSCORE', kc('groups'), '-inf', NOW, 'LIMIT', 0, ARGV[5])\n"
        "for _, g in ipairs(gs) do\n"
        "  local gk = kh('g:' .. g, 'g')\n"
        "  local all = redis.call('HGETALL', gk)\n"
        "  local hdr, parts, got, maxp = nil, {}, 0, 0\n"
        "  for i = 1, #all, 2 do\n"
        "    if all[i] == 'h' then hdr = all[i + 1]\n"
        "    else\n"
        "      local s = tonumber(string.sub(all[i], 2))\n"
        "      if s then parts[s] = all[i + 1]; got = got + 1; if s > maxp then maxp = s end end\n"
        "    end\n"
        "  end\n"
        "  if hdr and got > 0 then\n"
        "    local out = {}\n"
        "    for s = 1, maxp do if parts[s] then out[#out + 1] = parts[s] end end\n"
        "    redis.call('XADD', kc('s:' .. ME), '*', 't', 'P', 'h', hdr, 'n', got,\n"
        "      'r', table.concat(out), 'x', ME)\n"
        "  end\n"
        "  redis.call('DEL', gk)\n"
        "  redis.call('ZREM', kc('groups'), g)\n"
        "end\n"
        "return #gs\n";

/* Trim a stream of what is acknowledged (instead of an XDEL per entry,
 * which cost Redis about 4 us per id): KEYS 1 stream; ARGV 1 the highest
 * id the caller acknowledged. The limit is the lowest of that id, the
 * group's last delivered id (a group delivers in id order: below it every
 * entry was read) and its oldest pending id (below it none is pending), so
 * every entry below the limit is acknowledged: XTRIM MINID ~ drops whole
 * stream nodes below it, never an entry still pending, nor one nobody has
 * read, whatever the caller passed. Returns entries dropped. */
static const char lua_trim[] =
        "local function less(a, b)\n"
        "  local a1, a2 = string.match(a, '^(%d+)-(%d+)$')\n"
        "  local b1, b2 = string.match(b, '^(%d+)-(%d+)$')\n"
        "  a1, a2, b1, b2 = tonumber(a1), tonumber(a2), tonumber(b1), tonumber(b2)\n"
        "  return a1 < b1 or (a1 == b1 and a2 < b2)\n"
        "end\n"
        "local lim = ARGV[1]\n"
        "if not string.match(lim, '^%d+-%d+$') then return 0 end\n"
        "local last\n"
        "for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do\n"
        "  local name, ld\n"
        "  for i = 1, #g, 2 do\n"
        "    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then ld = g[i + 1] end\n"
        "  end\n"
        "  if name == 'g' then last = ld end\n"
        "end\n"
        "if not last then return 0 end\n"
        "if less(last, lim) then lim = last end\n"
        "local p = redis.call('XPENDING', KEYS[1], 'g')\n"
        "if p[1] > 0 and less(p[2], lim) then lim = p[2] end\n"
        "return redis.call('XTRIM', KEYS[1], 'MINID', '~', lim)\n";

/* The data set's generation marker (rstore_fence.c), smsmux:{C}:gen: a
 * random id, made when the key is missing (Redis lost its data: restarted
 * without persistence, FLUSHALL, a new server). GEN_MARK(K, NEW) leaves it
 * in local g, and in local made whether this call made it. */
#define GEN_MARK(k, fresh)                                                                 \
        "local g = redis.call('GET', " k ")\n"                                               \
        "local made = false\n"                                                             \
        "if not g then\n"                                                                  \
        "  g = " fresh "\n"                                                                \
        "  made = true\n"                                                                  \
        "  redis.call('SET', " k ", g)\n"                                                   \
        "end\n"

/* The marker and this instance's epoch (a connection's set-up, the
 * heartbeat, the write that follows a read: rstore_epoch.c): KEYS 1 the
 * marker, 2 the epoch hash; ARGV 1 a new id, 2 this instance, 3 the
 * highest epoch of ours the caller knows this data set held, 4 the epoch
 * to write. The epoch e the data set holds; the new one is written (at
 * least e + 1) unless e is below ARGV 3 in the same generation (rolled
 * back: nothing written, so a reply that never arrives leaves the next call
 * to tell it again); nor one not above e unless the caller knows nothing
 * yet (a new process goes on from e + 1): a late write from a connection
 * closed meanwhile never moves it, so each value names one write.
 * Returns "e w generation" (w: the epoch written, or 0): one string, as
 * the marker alone was (an array reply makes Redis queue a 16 KB reply
 * block, which a low client-output-buffer-limit refuses). */
static const char lua_gen[] = GEN_MARK("KEYS[1]", "ARGV[1]")
        "local e = tonumber(redis.call('HGET', KEYS[2], ARGV[2])) or 0\n"
        "local w = 0\n"
        "local known = tonumber(ARGV[3])\n"
        "if made or e >= known then\n"
        "  w = tonumber(ARGV[4])\n"
        /* not above what it holds: a new process of the instance (knows
         * nothing yet) goes on from there; else a late write from a closed
         * connection, which must not move it */
        "  if w <= e then\n"
        "    if known == 0 or made then w = e + 1 else w = 0 end\n"
        "  end\n"
        "  if w > 0 then redis.call('HSET', KEYS[2], ARGV[2], string.format('%d', w)) end\n"
        "end\n"
        "return string.format('%d %d ', e, w) .. g\n";

/* The fence's refresh (rstore_fence.c): KEYS 1 a stream, 2 the generation
 * marker, 3 the epoch hash; ARGV 1 this instance (consumer), 2 a new
 * generation id, 3.. entry ids. Per id: 1 when it is pending for us (and its idle time is reset:
 * XCLAIM ... 0 JUSTID, no delivery count), 0 when it is another consumer's
 * (taken over), 3 when it is pending for nobody (acknowledged by a taker,
 * or Redis lost it; the caller tells them apart by its lease and the
 * generation), 2 when the stream has no group g (Redis lost it: nobody can
 * take the entry), 4 when it is pending for nobody but in the stream past
 * the group's last delivered id (a data set rolled back to before its
 * read: the group delivers it again, rstore_epoch.c); then two more elements, the data set's generation (made
 * if missing) and this instance's epoch in it (0: none), read in the same
 * atomic call as the pending lists.
 * The check and the claim in one script: a plain XCLAIM 0 would take back
 * an entry another instance claimed while we were away. */
static const char lua_refresh[] =
        "local me = ARGV[1]\n"
        "local out, mine = {}, {}\n"
        "local last\n"
        /* an id pending for nobody: not delivered yet in this data set? */
        "local function undelivered(id)\n"
        "  if not last then\n"
        "    last = '0-0'\n"
        "    for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do\n"
        "      local name, ld\n"
        "      for i = 1, #g, 2 do\n"
        "        if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then ld = g[i + 1] end\n"
        "      end\n"
        "      if name == 'g' and ld then last = ld end\n"
        "    end\n"
        "  end\n"
        "  local a1, a2 = string.match(last, '^(%d+)-(%d+)$')\n"
        "  local b1, b2 = string.match(id, '^(%d+)-(%d+)$')\n"
        "  if not a1 or not b1 then return false end\n"
        "  a1, a2, b1, b2 = tonumber(a1), tonumber(a2), tonumber(b1), tonumber(b2)\n"
        "  if a1 > b1 or (a1 == b1 and a2 >= b2) then return false end\n"
        "  return #redis.call('XRANGE', KEYS[1], id, id) > 0\n"
        "end\n"
        "for i = 3, #ARGV do\n"
        "  local p = redis.pcall('XPENDING', KEYS[1], 'g', ARGV[i], ARGV[i], 1)\n"
        "  if p.err then\n"
        "    out[i - 2] = 2\n"
        "  elseif p[1] and p[1][2] == me then\n"
        "    mine[#mine + 1] = ARGV[i]\n"
        "    out[i - 2] = 1\n"
        "  elseif p[1] then\n"
        "    out[i - 2] = 0\n"
        "  elseif undelivered(ARGV[i]) then\n"
        "    out[i - 2] = 4\n"
        "  else\n"
        "    out[i - 2] = 3\n"
        "  end\n"
        "end\n"
        "if #mine > 0 then\n"
        "  mine[#mine + 1] = 'JUSTID'\n"
        "  redis.call('XCLAIM', KEYS[1], 'g', me, 0, unpack(mine))\n"
        "end\n"
        GEN_MARK("KEYS[2]", "ARGV[2]")
        "out[#out + 1] = g\n"
        "out[#out + 1] = tonumber(redis.call('HGET', KEYS[3], me)) or 0\n"
        "return out\n";

const char *const rs_lua[RS_LUA_N] = {
        [RS_LUA_CORR] = lua_corr,
        [RS_LUA_DR] = lua_dr,
        [RS_LUA_DR_MANY] = lua_dr_many,
        [RS_LUA_PARK_SWEEP] = lua_park_sweep,
        [RS_LUA_MO_ONE] = lua_mo_one,
        [RS_LUA_MO_PART] = lua_mo_part,
        [RS_LUA_GROUP_SWEEP] = lua_group_sweep,
        [RS_LUA_TRIM] = lua_trim,
        [RS_LUA_REFRESH] = lua_refresh,
        [RS_LUA_GEN] = lua_gen,
};
