// What arrived at the mock, for tests to assert on (GET /_mock/stats): counts by path, requests
// in flight, and the last requests with their headers and parsed bodies.

export interface RecordedRequest {
  at: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  /** Parsed JSON body, the raw text when it is not JSON, or null. */
  body: unknown;
  /** Model as requested (fault suffix included), when the route takes one. */
  model?: string;
  /** Status the mock answered with (200 for streams, also when they are cut later). */
  status?: number;
}

export interface MockStats {
  name: string;
  total: number;
  inFlight: number;
  byPath: Record<string, number>;
  last: RecordedRequest[];
}

const KEEP_LAST = 50;

/** Kept per request until a snapshot asks: converting headers and dates costs the hot path. */
interface Pending {
  rec: RecordedRequest;
  at: number;
  headers: Headers;
}

export class StatsRecorder {
  total = 0;
  inFlight = 0;
  private byPath: Record<string, number> = {};
  private last: Pending[] = [];

  constructor(private readonly name: string) {}

  record(req: Request, url: URL): RecordedRequest {
    this.total++;
    this.byPath[url.pathname] = (this.byPath[url.pathname] ?? 0) + 1;
    const rec: RecordedRequest = { at: "", method: req.method, path: url.pathname, query: url.search, headers: {}, body: null };
    this.last.push({ rec, at: Date.now(), headers: req.headers });
    if (this.last.length > KEEP_LAST) this.last.shift();
    return rec;
  }

  snapshot(lastN = KEEP_LAST): MockStats {
    return {
      name: this.name,
      total: this.total,
      inFlight: this.inFlight,
      byPath: { ...this.byPath },
      last: this.last.slice(-lastN).map((p) => ({ ...p.rec, at: new Date(p.at).toISOString(), headers: Object.fromEntries(p.headers) })),
    };
  }

  reset(): void {
    this.total = 0;
    this.byPath = {};
    this.last = [];
  }
}
