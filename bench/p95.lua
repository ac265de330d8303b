-- Adds the 95th percentile wrk measures but does not print with --latency (it prints 50/75/90/99).
-- run.py reads the line "bench-latency p95 <microseconds>".
done = function(summary, latency, requests)
  io.write(string.format("bench-latency p95 %d\n", latency:percentile(95)))
end
