// A tiny Prometheus registry of our own: counters, gauges and histograms with fixed buckets,
// rendered in the text exposition format 0.0.4 (HELP/TYPE lines, escaped label values).
// A series is kept under one string key (its label values joined by \x00) and found again through
// one Map level per label value, so counting a request joins no new key string; the request path
// passes the values as arguments (add, observeAt), so it builds no list of them either.

/** A series' labels, in the order the metric declares its label names. */
type Values = readonly string[];

abstract class Metric<S> {
  protected readonly series = new Map<string, { values: Values; s: S }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labels: readonly string[],
  ) {
    if (labels.length > MAX_LABELS) throw new Error(`${name}: at most ${MAX_LABELS} labels`);
  }
  /** The same series by their label values, one level per label (the last level holds the series). */
  private readonly index = new Map<string, unknown>();
  protected abstract fresh(): S;
  protected child(values: Values): S {
    return this.at(values[0], values[1], values[2], values[3]);
  }
  /**
   * The series of these label values, passed one by one (as many as the metric has labels): the
   * request path counts each finished request this way, without building a list of its labels.
   */
  protected at(a = "", b = "", c = "", d = ""): S {
    const n = this.labels.length;
    let level = this.index;
    if (n > 1) level = below(level, a);
    if (n > 2) level = below(level, b);
    if (n > 3) level = below(level, c);
    const leaf = n === 1 ? a : n === 2 ? b : n === 3 ? c : n === 4 ? d : "";
    let e = level.get(leaf) as { values: Values; s: S } | undefined;
    if (!e) {
      const values = [a, b, c, d].slice(0, n);
      const key = values.join("\x00");
      e = this.series.get(key);
      if (!e) this.series.set(key, (e = { values, s: this.fresh() }));
      level.set(leaf, e);
    }
    return e.s;
  }
  reset(): void {
    this.series.clear();
    this.index.clear();
  }
  abstract readonly type: string;
  abstract samples(out: string[]): void;
  /** Applied to label values while rendering (secrets masked in whatever a label carries). */
  private mask: (s: string) => string = (s) => s;
  render(out: string[], mask?: (s: string) => string): void {
    if (mask) this.mask = mask;
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    this.samples(out);
  }
  protected labelText(values: Values): string {
    const parts = this.labels.map((l, i) => `${l}="${escapeLabel(this.mask(values[i] ?? ""))}"`);
    return parts.length ? `{${parts.join(",")}}` : "";
  }
}

export class Counter extends Metric<{ v: number }> {
  readonly type: string = "counter";
  protected fresh() {
    return { v: 0 };
  }
  /** Add `by` to the series of these label values, passed one by one: `add(1, route, target)`. */
  add(by: number, a?: string, b?: string, c?: string, d?: string): void {
    this.at(a, b, c, d).v += by;
  }
  /** For values mirrored from elsewhere at scrape time (a counter the supervisor keeps). */
  set(values: Values, v: number): void {
    this.child(values).v = v;
  }
  samples(out: string[]): void {
    for (const { values, s } of this.series.values()) out.push(`${this.name}${this.labelText(values)} ${num(s.v)}`);
  }
}

/** A gauge: a Counter whose value may go down; `reset()` + `set` rebuild one from live state. */
export class Gauge extends Counter {
  override readonly type: string = "gauge";
}

export class Histogram extends Metric<{ counts: number[]; sum: number; count: number }> {
  readonly type = "histogram";
  constructor(
    name: string,
    help: string,
    labels: readonly string[],
    /** Upper bounds in base units, ascending; +Inf is implied. */
    readonly buckets: readonly number[],
  ) {
    super(name, help, labels);
  }
  protected fresh() {
    return { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
  }
  /** Count `v` in the series of these label values, passed one by one: `observeAt(seconds, route)`. */
  observeAt(v: number, a?: string, b?: string, c?: string, d?: string): void {
    const s = this.at(a, b, c, d);
    s.sum += v;
    s.count++;
    // Only the first bucket that holds v is counted here; render() makes them cumulative.
    const bounds = this.buckets;
    let i = 0;
    while (i < bounds.length && v > bounds[i]!) i++;
    if (i < bounds.length) s.counts[i]!++;
  }
  samples(out: string[]): void {
    for (const { values, s } of this.series.values()) {
      // The series' own labels once, then each bucket's `le` after them.
      const own = this.labelText(values);
      const bucket = (le: string) => (own ? `{${own.slice(1, -1)},le="${le}"}` : `{le="${le}"}`);
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
        out.push(`${this.name}_bucket${bucket(num(le))} ${cumulative}`);
      });
      out.push(`${this.name}_bucket${bucket("+Inf")} ${s.count}`);
      out.push(`${this.name}_sum${own} ${num(s.sum)}`, `${this.name}_count${own} ${s.count}`);
    }
  }
}

export class Registry {
  private readonly metrics: Metric<unknown>[] = [];
  add<M extends Metric<any>>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  render(mask?: (s: string) => string): string {
    const out: string[] = [];
    // Label values repeat across series and metrics (a route, a target, "2xx"): each is masked
    // once per scrape. With hundreds of routes, masking every occurrence (the masker runs the
    // config's secrets and the token shapes over it) held the event loop for 100-500 ms a scrape.
    const masked = new Map<string, string>();
    const once = mask && ((v: string) => masked.get(v) ?? (masked.set(v, mask(v)), masked.get(v)!));
    for (const m of this.metrics) m.render(out, once);
    return `${out.join("\n")}\n`;
  }
}

/** Content-Type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

// --- internal ---

/** Label values can be passed as arguments (Metric.at) up to this many. */
const MAX_LABELS = 4;

/** The index level under `value`, made when first needed. */
function below(level: Map<string, unknown>, value: string): Map<string, unknown> {
  let next = level.get(value) as Map<string, unknown> | undefined;
  if (!next) level.set(value, (next = new Map()));
  return next;
}

function escapeLabel(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return String(v);
}
