-- wrk script for the reverse scenario: at the end, one line "RESULT {...}" in the bench's LoadResult shape
-- (lib/load-result.ts), so wrk rows run through the same runForResult as the Node clients.
-- wrk counts non-2xx/3xx responses as status errors; the bench counts only 2xx as served, and no row here redirects.
done = function(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local ok = summary.requests - e.status
  io.write(string.format(
    'RESULT {"reqPerSec":%.3f,"ok":%d,"errors":%d,"non2xx":%d,"p50Ms":%.3f,"p99Ms":%.3f,"durationSec":%.3f,"responses":%d}\n',
    ok / seconds, ok, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, seconds, summary.requests))
end
