-- wrk script for bench_http_rx: H4 MO form POSTs, a new message_id each
-- (thread number + counter + a per-run prefix), the same for both servers.
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  prefix = (args[1] or "r") .. "-" .. tid .. "-"
  counter = 0
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
end
function request()
  counter = counter + 1
  return wrk.format("POST", nil, headers,
    "type=MO&message_id=" .. prefix .. counter ..
    "&shortcode=12345&phone_number=447700900001&carrier=bench&message=hello+from+wrk")
end
