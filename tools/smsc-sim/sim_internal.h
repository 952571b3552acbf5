/* smsc-sim internals shared by the engine's files.
 *
 * One engine thread owns everything below: SMSCs, sessions, the timer heap,
 * the MT table, pending deliveries and the ledger. Other threads (sim_ctl,
 * sim_summary_json) take `sim.lock`, which the engine holds while it handles
 * one batch of epoll events, and wake the loop through `wake_fd`.
 *
 * Files: sim_engine.c (loop, public API), sim_timer.c (clock, random
 * draws, timer heap), sim_sess.c (sessions, output, input framing),
 * sim_listen.c (listeners, accept, kill/restore; these four share
 * sim_engine.h), sim_smpp.c (what each PDU does), sim_deliver.c (DRs, MOs, re-sends), sim_ledger.c (counters,
 * violations, JSON), sim_ctl.c (command language, control socket, plan),
 * sim_knobs.c (knobs), sim_config.c (config file), sim_topo.c (sites and
 * SMSCs from options and file), sim_hostile.c (hostile cases),
 * sim_drop.c (the drop-resp fault's response kinds), sim_mts.c (the MTs
 * the service remembers). */
#ifndef SMSC_SIM_INTERNAL_H
#define SMSC_SIM_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "sim.h"
#include "pdu/pdu.h"

#define SIM_MAX_SMSCS   256
#define SIM_MAX_SESS    4096
#define SIM_IN_CAP      (256u * 1024u)
#define SIM_OUT_HIGH    (4u * 1024u * 1024u)  /* stop reading a session above this */
#define SIM_MAX_VIOL    200
#define SIM_NAME_MAX    32
#define SIM_RECENT_ATTEMPTS 32

/* A value drawn per event: uniform in [lo, hi] (lo == hi: fixed), or with
 * `exp` set, exponential with mean lo, capped at hi (0: no cap). */
struct sim_range {
        double lo, hi;
        int exp;
};

enum sim_msgid_style {
        SIM_MSGID_DEC = 0,
        SIM_MSGID_HEX,          /* lower-case hex */
        SIM_MSGID_HEX_UPPER,
        SIM_MSGID_DEC_ZEROS,    /* decimal, zero-padded to msgid_width */
        SIM_MSGID_HEX_ZEROS,    /* lower hex, zero-padded */
        SIM_MSGID_HEX_UPPER_ZEROS, /* upper hex, zero-padded */
};
#define SIM_MSGID_STYLES 6
#define SIM_MSGID_SAME (-1)     /* dr_msgid_style: the resp's id as it is */

/* Behaviour knobs of one SMSC. Written by the engine thread (or under the
 * lock by sim_ctl); read by the engine thread. */
struct sim_knobs {
        char system_id[SIM_NAME_MAX];
        char password[SIM_NAME_MAX];
        struct sim_range resp_latency_ms;
        struct sim_range dr_delay_ms;
        double dr_accepted_prob;    /* send ACCEPTED before the final state */
        uint32_t final_weight[10];  /* message_state -> weight for the final DR */
        double other_site_prob;     /* DR/MO goes to a bind at another site */
        double dr_before_resp_prob; /* DR written before the submit_sm_resp */
        uint32_t deliver_timeout_ms;/* deliver_sm_resp wait before re-send */
        uint32_t deliver_max_sends; /* sends per deliver_sm before giving up */
        double mo_rate;             /* MOs per second generated at this SMSC */
        double mo_multipart_prob;
        double mo_sar_prob;         /* multipart: SAR TLVs instead of UDH */
        double mo_out_of_order_prob;
        double mo_udh16_prob;       /* multipart UDH: 16-bit reference IE */
        uint8_t mo_dcs;             /* data_coding for generated MOs */
        char mo_text[128];          /* UTF-8 MO text, "" = generated */
        char mo_from[24], mo_to[24];
        uint8_t dcs_ok[256];        /* data_coding values accepted (R9) */
        enum sim_msgid_style msgid_style;
        uint32_t msgid_width;
        int dr_msgid_style;         /* how this SMSC writes the id in its DRs:
                                       SIM_MSGID_SAME or an enum sim_msgid_style */
        uint8_t dr_msgid_text;      /* DR id only in the text's id: (no
                                       receipted_message_id TLV) */
        uint8_t service_dedup;      /* R5: deliver once per (identity, segment) */
        uint8_t kill_accept_close;  /* killed: 1 accept-and-close, 0 close listener */
        uint8_t send_interface_version; /* sc_interface_version TLV in bind_resp */
        uint32_t enquire_link_ms;   /* service-side enquire_link to bound sessions, 0 = never */
        uint8_t unsupported_resp;   /* R7 ops: 1 their own *_resp, 0 generic_nack (ESME_RINVCMDID) */
};

/* Kinds of response the drop-resp fault can swallow, named by the request
 * they answer (sim_drop.c). */
enum sim_drop_kind {
        SIM_DROP_SUBMIT = 0,
        SIM_DROP_BIND_TX, SIM_DROP_BIND_RX, SIM_DROP_BIND_TRX,
        SIM_DROP_ENQUIRE_LINK, SIM_DROP_UNBIND, SIM_DROP_DATA_SM, SIM_DROP_DELIVER_SM,
        SIM_DROP_UNSUPPORTED,       /* query_sm, cancel_sm, replace_sm, submit_multi (R7) */
        SIM_DROP_NACK,              /* unknown command_id or unusable header */
        SIM_DROP_KINDS
};

/* Fault state of one SMSC, set by control commands. Engine thread. */
struct sim_faults {
        uint8_t killed, stalled, throttled, queue_full;
        double throttle_tps;        /* > 0: throttle only above this rate */
        uint32_t drop_resp[SIM_DROP_KINDS]; /* drop the next N responses of each kind */
        uint32_t slow_bps;          /* drip output at this many bytes/s */
        uint32_t refuse_bind;       /* != 0: answer binds with this status */
        int hostile_case;           /* -1 none, else a case index, -2 all */
        double tps_tokens;
        uint64_t tps_last_ns;
        uint8_t tls_fault;          /* enum sim_tls_fault, for new connections */
};

enum sim_tls_fault { SIM_TLS_NONE = 0, SIM_TLS_BADCERT, SIM_TLS_STALL };

/* How a TLS session ends (sim_sess.tls_fin): the faults without our
 * close_notify, an unbind with it (queued once: SIM_FIN_NOTIFIED). */
enum sim_fin { SIM_FIN_NONE = 0, SIM_FIN_FAULT, SIM_FIN_NOTIFY, SIM_FIN_NOTIFIED };

/* Ledger counters of one SMSC. Engine thread. */
struct sim_counts {
        uint64_t submit_received, submit_accepted, submit_rejected, submit_unanswered;
        uint64_t resp_dropped, service_duplicates, handset_delivered, handset_duplicates;
        uint64_t accepted_while_killed;
        uint64_t deliver_sent, deliver_acked, deliver_nacked, deliver_resent;
        uint64_t dr_sent, mo_sent;
        uint64_t bind_attempts, bind_pdus, binds_ok, binds_refused, unbinds;
        uint64_t enquire_links, other_pdus, generic_nacks_sent, hostile_sent;
        uint64_t first_attempt_ns, last_attempt_ns, min_spacing_ns;
        uint64_t max_accept_lag_ns;     /* longest wait of a connection for accept() */
        uint64_t resp_delayed;          /* submit_sm_resps held by resp_latency_ms ... */
        uint64_t resp_delay_us_total, resp_delay_us_max; /* ... and the delays drawn */
        char last_attempt_peer[48];     /* "ip:port" of the last attempt */
        uint64_t enquire_links_sent, dr_handed_off;
        uint64_t tls_handshakes, tls_resumed, tls_failed, tls_close_notify;
        uint64_t resp_dropped_kind[SIM_DROP_KINDS];
        uint64_t recent_attempt_ns[SIM_RECENT_ATTEMPTS]; /* ring of the last attempts */
};

struct sim_dq_ent {
        size_t idx;                 /* sim_dlv index */
        uint32_t sends;             /* d->sends when queued: stale if it moved on */
};

struct sim_smsc {
        int index;
        char name[SIM_NAME_MAX], site[SIM_NAME_MAX];
        int site_index;
        char host[64];
        uint16_t port;
        int listen_fd;              /* -1 while killed in close-listener mode */
        void *tls_ctx;              /* SSL_CTX: a TLS listener (sim_tls.c), NULL plain */
        struct sim_knobs k;
        struct sim_faults f;
        struct sim_counts c;
        uint64_t mo_serial;
        uint8_t mo_armed;
        uint8_t elink_armed;
        /* deliver_sm sent for this SMSC's DRs/MOs, in send order: the
         * timeout sweep walks it from the head (all share one timeout) */
        struct sim_dq_ent *dq;
        size_t dq_head, dq_len, dq_cap;
};

enum sim_sess_state {
        SIM_SESS_OPEN = 0,
        SIM_SESS_TX, SIM_SESS_RX, SIM_SESS_TRX,
        SIM_SESS_CLOSING,
};

/* A deliver_sm in flight on a session: our seq and its sim_dlv index. */
struct sim_fl {
        uint32_t seq;
        uint32_t used;
        size_t idx;
};

/* One accepted TCP connection (an ESME's bind). Engine thread only. */
struct sim_sess {
        int fd;                     /* -1: slot free */
        uint64_t id;                /* unique, never reused: timers refer to it */
        int smsc;
        enum sim_sess_state state;
        uint8_t *in;
        size_t in_len;
        uint8_t *out;
        size_t out_off, out_len, out_cap;
        uint32_t seq;               /* our next request sequence number */
        uint32_t ep_events;         /* what epoll watches now */
        uint8_t dirty;              /* on the flush list */
        uint8_t read_paused;
        double drip_credit;         /* bytes the `slow` fault lets out next tick */
        int rx_pos;                 /* index in smsc_sim.rx, -1 if not a receiver */
        struct sim_fl *fl;          /* deliver_sm in flight here, by seq & (cap_fl-1) */
        size_t n_fl, cap_fl;
        /* TLS (sim_tls.c): the SSL on memory BIOs and the records to send */
        void *tls;                  /* SSL, NULL: plain (or stalled) */
        uint8_t tls_ready;          /* handshake done */
        uint8_t tls_stall;          /* the stall fault: input swallowed, nothing answered */
        uint8_t tls_fin;            /* enum sim_fin: FIN after the last record, then
                                       input read (for the ESME's close_notify) until
                                       the peer closes (a close with unread input would
                                       be a RST instead) */
        uint8_t *cout;
        size_t cout_off, cout_len, cout_cap;
};

/* Output of a session not yet written: plaintext plus TLS records. */
static inline size_t sim_sess_out_pending(const struct sim_sess *ss)
{
        return (ss->out_len - ss->out_off) + (ss->cout_len - ss->cout_off);
}

/* One MT the service took (only those with an identity or a DR to send). */
struct sim_mt {
        char msgid[SMPP_MESSAGE_ID_MAX];
        uint64_t msgid_serial;      /* the number behind msgid (for the DR's style) */
        int smsc;
        uint64_t submit_ns;
        uint8_t id_len;
        uint8_t identity[SMPP_SMX_IDENTITY_MAX];
        uint16_t segment;
        char src[SMPP_ADDR_MAX], dst[SMPP_ADDR_MAX];
        char text20[21];
        uint32_t resubmits;
        uint8_t dr_pending;         /* DR timers that point here */
        uint8_t detached;           /* left the ring of MTs without identity:
                                       the last DR timer frees it */
};

/* One deliver_sm the service must get acknowledged (DR or MO part). */
struct sim_dlv {
        uint8_t *pdu;               /* encoded, seq patched per send */
        size_t len;
        int origin_smsc;            /* the SMSC that produced it */
        uint8_t is_dr;
        uint8_t acked;
        uint8_t exhausted;
        uint8_t in_flight;
        uint32_t sends;
        uint64_t sess_id;           /* where it was last sent */
        uint32_t seq;
        uint64_t deadline_ns;
        uint64_t first_sent_ns;
        int last_smsc;
};

struct sim_timer {
        uint64_t at;
        uint64_t order;
        int kind;
        uint64_t sess_id;
        void *p;
        uint64_t a;
};

enum sim_timer_kind {
        SIM_T_RESP = 1,     /* p: malloc'd PDU, a: its length */
        SIM_T_DR,           /* p: struct sim_mt *, a: message_state */
        SIM_T_DLV_CHECK,    /* sweep the per-SMSC in-flight queues */
        SIM_T_MO,           /* a: smsc index */
        SIM_T_PLAN,         /* next plan step */
        SIM_T_DRIP,         /* slow output tick */
        SIM_T_DLV_RETRY,    /* look for a bind for unsent deliveries */
        SIM_T_ELINK,        /* a: smsc index; service-side enquire_link round */
};

struct sim_viol {
        char rule[8];
        char kind[32];
        char smsc[SIM_NAME_MAX];
        char detail[128];
        double t;
};

struct sim_plan_step {
        double t;
        char cmd[256];
};

struct smsc_sim {
        pthread_mutex_t lock;
        pthread_t thread;
        int running;
        int stop;
        int ep;
        int wake_fd;
        int ctl_fd;
        char ctl_path[108];
        char ledger_path[512];
        uint64_t start_ns;
        uint64_t rng;
        double rebind_interval_s;

        int n_smsc;
        struct sim_smsc smsc[SIM_MAX_SMSCS];
        int n_sites;
        char sites[SIM_MAX_SMSCS][SIM_NAME_MAX];

        struct sim_sess sess[SIM_MAX_SESS];
        uint64_t next_sess_id;
        int flush_list[SIM_MAX_SESS];
        int n_flush;

        struct sim_timer *timers;
        size_t n_timers, cap_timers;
        uint64_t timer_order;

        /* MTs with identity: open addressing table of indexes into mts. */
        struct sim_mt **mts;
        size_t n_mts, cap_mts;
        uint32_t *mt_hash;          /* 0 empty, else index+1 */
        size_t hash_cap;
        /* MTs without identity: a ring of at most mt_records_max (sim_mts.c) */
        struct sim_mt **anon;
        size_t n_anon, anon_head, mt_records_max;
        uint64_t mt_records_evicted;

        struct sim_dlv *dlv;
        size_t n_dlv, cap_dlv;
        size_t *pending;            /* dlv indexes waiting for a bind */
        size_t n_pending, cap_pending;
        int dlv_retry_armed;
        int dlv_check_armed;
        time_t date_min;            /* DR dates: minute cached ... */
        char date_str[11];          /* ... as YYMMDDhhmm */
        int rx[SIM_MAX_SESS];       /* bound receiver sessions (RX/TRX) */
        int n_rx;

        uint64_t msgid_serial;
        uint32_t mo_ref;

        struct sim_viol viol[SIM_MAX_VIOL];
        size_t n_viol;
        uint64_t viol_total;

        struct sim_plan_step *plan;
        size_t n_plan, plan_next;
        uint64_t plan_start_ns;
        uint64_t plan_gen;

        int drip_armed;

        sim_dr_hook_fn dr_hook;     /* sim_set_dr_hook(), under the lock */
        void *dr_hook_arg;

        struct smx_pdu_opts popts;

        void *tls_bad_ctx;          /* SSL_CTX with a self-signed certificate (badcert) */
        struct http_sim *http;      /* HTTP API side (http_sim.h) attached, or NULL;
                                       set/cleared under lock by http_sim_start/stop */
};

/* sim_timer.c */
uint64_t sim_now_ns(void);
double sim_rand(struct smsc_sim *s);               /* [0, 1) */
double sim_range_draw(struct smsc_sim *s, const struct sim_range *r);
void sim_timer_add(struct smsc_sim *s, uint64_t at, int kind, uint64_t sess_id, void *p, uint64_t a);

/* sim_sess.c */
struct sim_sess *sim_sess_by_id(struct smsc_sim *s, uint64_t id);
uint8_t *sim_out_reserve(struct smsc_sim *s, struct sim_sess *ss, size_t n);
void sim_out_commit(struct smsc_sim *s, struct sim_sess *ss, size_t n);
int sim_out_append(struct smsc_sim *s, struct sim_sess *ss, const uint8_t *p, size_t n);
void sim_sess_close(struct smsc_sim *s, struct sim_sess *ss, int rst);
void sim_flush_all(struct smsc_sim *s);
void sim_arm_drip(struct smsc_sim *s);
void sim_sess_reset(struct smsc_sim *s, struct sim_sess *ss);

/* sim_listen.c */
int sim_smsc_kill(struct smsc_sim *s, struct sim_smsc *m);
int sim_smsc_restore(struct smsc_sim *s, struct sim_smsc *m);

/* sim_smpp.c */
void sim_on_pdu(struct smsc_sim *s, struct sim_sess *ss, const uint8_t *buf, size_t len);
void sim_on_timer_resp(struct smsc_sim *s, struct sim_timer *t);
int sim_session_is_receiver(const struct sim_sess *ss);

/* sim_deliver.c */
void sim_dr_schedule(struct smsc_sim *s, struct sim_mt *mt, int before_resp, uint8_t regdel);
void sim_on_timer_dr(struct smsc_sim *s, struct sim_timer *t);
size_t sim_dlv_add(struct smsc_sim *s, int origin, int is_dr, uint8_t *pdu, size_t len);
void sim_dlv_try_send(struct smsc_sim *s, size_t idx);
void sim_on_deliver_resp(struct smsc_sim *s, struct sim_sess *ss, uint32_t seq, uint32_t status);
void sim_on_timer_dlv_check(struct smsc_sim *s);
void sim_on_timer_dlv_retry(struct smsc_sim *s);
void sim_on_sess_closed(struct smsc_sim *s, struct sim_sess *ss);
void sim_on_timer_mo(struct smsc_sim *s, struct sim_timer *t);
int sim_mo_generate(struct smsc_sim *s, struct sim_smsc *m, unsigned parts);
/* The same, but only the first `send` parts are ever sent (0: all): an MO
 * that can never be completed. */
int sim_mo_generate_some(struct smsc_sim *s, struct sim_smsc *m, unsigned parts, unsigned send);
/* A DR for message_id `msgid` (any id, issued or not) in state st, sent
 * by SMSC m as its own DRs are (ctl `dr`). */
int sim_dr_inject(struct smsc_sim *s, struct sim_smsc *m, const char *msgid, uint8_t st);
/* message_state by name (DELIVERED, UNDELIVERABLE, ...; any case). */
int sim_state_parse(const char *name, uint8_t *out);
void sim_mo_arm(struct smsc_sim *s, struct sim_smsc *m);
void sim_elink_arm(struct smsc_sim *s, struct sim_smsc *m);
void sim_on_timer_elink(struct smsc_sim *s, struct sim_timer *t);

/* sim_mts.c */
struct sim_mt *sim_mt_find(struct smsc_sim *s, const uint8_t *id, size_t n, uint16_t seg);
struct sim_mt *sim_mt_add_identity(struct smsc_sim *s, const uint8_t *id, size_t n, uint16_t seg);
struct sim_mt *sim_mt_add_anon(struct smsc_sim *s);
struct sim_mt *sim_mt_anon_at(const struct smsc_sim *s, size_t i);   /* 0 = oldest */
void sim_mt_dr_done(struct sim_mt *mt);   /* a DR timer of mt has run */
void sim_mts_free(struct smsc_sim *s);

/* sim_ledger.c */
void sim_violation(struct smsc_sim *s, const char *rule, const char *kind,
                   const char *smsc, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A connection to m accepted; at_ns: when the kernel established it, on
 * sim_now_ns()'s clock (sim_listen.c), not when the engine got round to
 * accept(): a busy engine takes a connection from the backlog late. peer:
 * the client's "ip:port", named in an R2 violation with the previous
 * attempt's, so a test can find both connections on the wire. */
void sim_ledger_attempt(struct smsc_sim *s, struct sim_smsc *m, uint64_t at_ns,
                        const char *peer);
int sim_ledger_json(struct smsc_sim *s, char *buf, size_t cap, int final);
int sim_ledger_mts_json(struct smsc_sim *s, char *buf, size_t cap);

/* sim_knobs.c */
void sim_knobs_default(struct sim_knobs *k, const struct sim_options *o);
int sim_knob_set(struct sim_knobs *k, const char *key, const char *val);
int sim_status_parse(const char *txt, uint32_t *out);

/* sim_config.c: the config file, one entry per `key = value` line and one
 * (key NULL) per section header, each with its line */
struct sim_cfg_ent {
        char *section, *key, *val;
        int line;
};
struct sim_cfg {
        const char *path;           /* NULL: no file */
        struct sim_cfg_ent *e;
        size_t n, cap;
};
enum sim_cfg_sec { SIM_SEC_SIM, SIM_SEC_ALL, SIM_SEC_SITE, SIM_SEC_SMSC, SIM_SEC_BAD };
struct sim_cfg_where {
        enum sim_cfg_sec kind;
        const char *site;           /* SITE, SMSC: the site's name */
        unsigned k;                 /* SMSC: K of smscK.SITE */
};
int sim_cfg_read(struct sim_cfg *c, const char *path, char *err, size_t err_len);
void sim_cfg_free(struct sim_cfg *c);

/* sim_tls.c: TLS listeners on memory BIOs and the TLS faults */
/* Contexts for every SMSC given a certificate (flags, then its config
 * section, its site's, [sim]). 0 or negative errno with err. */
int sim_tls_setup(struct smsc_sim *s, const struct sim_options *o, const struct sim_cfg *cf,
                  char *err, size_t err_len);
void sim_tls_free(struct smsc_sim *s);
/* A connection to m was accepted: its TLS state (0, or -ENOMEM). */
int sim_tls_accept(struct smsc_sim *s, struct sim_smsc *m, struct sim_sess *ss);
void sim_tls_end(struct sim_sess *ss);
/* Ciphertext received: 1 the handshake is done (read plaintext), 0 not yet,
 * < 0 failed (its alert is queued; close after the flush). */
int sim_tls_input(struct smsc_sim *s, struct sim_sess *ss, const uint8_t *p, size_t n);
/* Plaintext received: > 0 bytes, 0 none, -1 the session failed or ended. */
long sim_tls_read(struct smsc_sim *s, struct sim_sess *ss, uint8_t *buf, size_t cap);
/* Encrypt the pending plaintext output into records (0 or negative errno). */
int sim_tls_encrypt(struct smsc_sim *s, struct sim_sess *ss);
/* The faults tls-alert and tls-truncate on one session. */
void sim_tls_alert(struct smsc_sim *s, struct sim_sess *ss);
void sim_tls_truncate(struct smsc_sim *s, struct sim_sess *ss);
/* Queue our close_notify (after the pending output). */
void sim_tls_close_notify(struct sim_sess *ss);
/* After our FIN: ciphertext still arriving is read for the ESME's
 * close_notify (counted) and otherwise dropped. */
void sim_tls_after_fin(struct smsc_sim *s, struct sim_sess *ss, const uint8_t *p, size_t n);
int sim_cfg_section(const char *section, struct sim_cfg_where *w);
int sim_cfg_is_topo_key(enum sim_cfg_sec kind, const char *key);
int sim_cfg_apply(struct smsc_sim *s, const struct sim_options *o, const struct sim_cfg *c, char *err,
                  size_t err_len);
/* "FILE:LINE: message" (line 0: "FILE: message") into err; returns -EINVAL */
int sim_cfg_fail(const struct sim_cfg *c, int line, char *err, size_t err_len, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* sim_topo.c: sites and SMSCs from the options and the file */
int sim_topo_build(struct smsc_sim *s, const struct sim_options *o, const struct sim_cfg *c, char *err,
                   size_t err_len);

/* sim_ctl.c */
int sim_ctl_locked(struct smsc_sim *s, const char *command, char *reply, size_t reply_len);
int sim_ctl_listen(struct smsc_sim *s, const char *path, char *err, size_t err_len);
void sim_ctl_on_accept(struct smsc_sim *s);
void sim_on_timer_plan(struct smsc_sim *s, struct sim_timer *t);
int sim_plan_load(struct smsc_sim *s, const char *path, char *err, size_t err_len);

/* sim_hostile.c */
int sim_hostile_lookup(const char *name);
size_t sim_hostile_count(void);
const char *sim_hostile_name(size_t i);
void sim_hostile_send(struct smsc_sim *s, struct sim_sess *ss, int which);

/* sim_drop.c */
const char *sim_drop_kind_name(int kind);
int sim_drop_kind_of(uint32_t request_id);
int sim_drop_kinds_parse(const char *list, uint8_t sel[SIM_DROP_KINDS]);
/* 1 when the response to `request_id` is to be swallowed (counted). */
int sim_resp_drop(struct sim_smsc *m, uint32_t request_id);

/* sim_text.c */
size_t sim_text_encode(uint8_t dcs, const char *utf8, size_t n, uint8_t *out, size_t cap);

/* sim_msgid.c */
size_t sim_msgid_format(const struct sim_knobs *k, uint64_t serial, char *out);
/* The same number in a given style (dr_msgid_style). */
size_t sim_msgid_format_style(enum sim_msgid_style style, uint32_t width, uint64_t serial,
                              char *out);

#endif
