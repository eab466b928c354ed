// Aggregation of the workers' raw counts and latency samples into one report.

/** Nearest-rank percentile of an ascending Float64Array (null when empty). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return round(sorted[rank]);
}

function round(value, digits = 2) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function distribution(samples) {
  const sorted = Float64Array.from(samples).sort();
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? round(sorted[sorted.length - 1]) : null,
    mean: sorted.length ? round(sum / sorted.length) : null,
  };
}

function addCounts(into, counts) {
  for (const [key, value] of Object.entries(counts)) into[key] = (into[key] ?? 0) + value;
  return into;
}

/** One report from the per-worker results (`worker.mjs` `result` messages). */
export function aggregate(target, url, params, results, setupSeconds) {
  const sum = (key) => results.reduce((total, r) => total + r[key], 0);
  const firstSend = Math.min(...results.map((r) => r.startEpochMs));
  const lastDelivery = Math.max(...results.map((r) => r.lastDeliveryEpochMs ?? r.startEpochMs));
  const activeSeconds = Math.max(params.duration, (lastDelivery - firstSend) / 1000);
  const delivered = sum("delivered");
  return {
    target,
    url,
    params,
    sent: sum("sent"),
    acked: sum("acked"),
    ack_errors: results.reduce((all, r) => addCounts(all, r.ackErrors), {}),
    delivered,
    expected: sum("expected"),
    lost: sum("lost"),
    duplicated: sum("duplicated"),
    out_of_order: sum("outOfOrder"),
    sent_per_second: round(sum("sent") / params.duration, 1),
    delivered_per_second: round(delivered / activeSeconds, 1),
    latency_ms: distribution(results.flatMap((r) => r.latencies)),
    ack_latency_ms: distribution(results.flatMap((r) => r.ackLatencies)),
    active_seconds: round(activeSeconds, 2),
    setup_seconds: round(setupSeconds, 2),
    client: {
      processes: results.length,
      cpu_percent: results.map((r) => round(r.cpuPercent, 1)),
      max_send_lag_ms: round(Math.max(...results.map((r) => r.maxSendLagMs))),
    },
  };
}

/** The one-line summary of a report. */
export function summary(report) {
  const ms = (value) => (value === null ? "-" : `${value} ms`);
  const errors = Object.entries(report.ack_errors)
    .map(([code, count]) => `${code}=${count}`)
    .join(",");
  return (
    `${report.target}: sent ${report.sent} acked ${report.acked}` +
    (errors ? ` (errors ${errors})` : "") +
    ` delivered ${report.delivered}/${report.expected} lost ${report.lost}` +
    ` dup ${report.duplicated} ooo ${report.out_of_order}` +
    ` | ${report.delivered_per_second} deliveries/s` +
    ` | latency p50 ${ms(report.latency_ms.p50)} p99 ${ms(report.latency_ms.p99)}` +
    ` max ${ms(report.latency_ms.max)}` +
    (report.server_cpu_percent === undefined ? "" : ` | server cpu ${report.server_cpu_percent}%`) +
    ` | client cpu ${report.client.cpu_percent.join("/")}%`
  );
}
