// Counters the supervisor shows in `gw status`. Plain numbers on the request path; the snapshot
// is copied out so callers cannot disturb them.

export interface GatewayStats {
  /** Proxied requests not yet answered: until their headers are sent, or for streams until they end. */
  inFlight: number;
  /** Event streams being passed through right now. */
  openStreams: number;
  /** Proxied requests (gw's local answers and rejected requests are not counted). */
  requests: number;
  /** Proxied requests that ended in a 5xx, a gw failure, or a broken stream. */
  errors: number;
  /** Upstream attempts per instance; errors = no response, or a 5xx. */
  byInstance: Record<string, { requests: number; errors: number }>;
}

export class StatsCounter {
  // byInstance has no prototype: an instance named __proto__ or constructor is an ordinary key.
  private s: GatewayStats = { inFlight: 0, openStreams: 0, requests: 0, errors: 0, byInstance: Object.create(null) };

  begin(): void {
    this.s.requests++;
    this.s.inFlight++;
  }

  end(error: boolean): void {
    this.s.inFlight--;
    if (error) this.s.errors++;
  }

  /**
   * A request already ended as a success whose body then turned out to be an error (late-error.ts):
   * counted again as the error it was (`request`) and against its instance (`attempt`).
   */
  failedLate(instance: string, request: boolean, attempt: boolean): void {
    if (request) this.s.errors++;
    const b = this.s.byInstance[instance];
    if (attempt && b) b.errors++;
  }

  streamOpened(): void {
    this.s.openStreams++;
  }

  streamClosed(): void {
    this.s.openStreams--;
  }

  /** One upstream attempt; `error` = it failed on the upstream's side (observe/record.ts failedAttempt). */
  attempt(instance: string, error: boolean): void {
    const b = (this.s.byInstance[instance] ??= { requests: 0, errors: 0 });
    b.requests++;
    if (error) b.errors++;
  }

  snapshot(): GatewayStats {
    const byInstance: GatewayStats["byInstance"] = Object.create(null);
    for (const [k, v] of Object.entries(this.s.byInstance)) byInstance[k] = { ...v };
    return { ...this.s, byInstance };
  }
}
