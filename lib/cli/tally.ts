import { Latency, type LatencyData } from './latency'

export interface TallyData {
  requests: number
  clientErrors: number
  serverErrors: number
  slow: number
  latency: LatencyData
}

/** Requests counted by outcome, with their response times: one endpoint, the total, or one time bin. */
export class Tally {
  requests = 0
  clientErrors = 0
  serverErrors = 0
  slow = 0
  readonly latency: Latency

  constructor (exactLimit: number, latency?: Latency) {
    this.latency = latency ?? new Latency(exactLimit)
  }

  add (status: number, ms: number, slow: boolean): void {
    this.requests++
    if (status >= 500 && status < 600) this.serverErrors++
    else if (status >= 400 && status < 500) this.clientErrors++
    if (slow) this.slow++
    this.latency.add(ms)
  }

  merge (other: Tally): void {
    this.requests += other.requests
    this.clientErrors += other.clientErrors
    this.serverErrors += other.serverErrors
    this.slow += other.slow
    this.latency.merge(other.latency)
  }

  toData (): TallyData {
    return { requests: this.requests, clientErrors: this.clientErrors, serverErrors: this.serverErrors, slow: this.slow, latency: this.latency.toData() }
  }

  static fromData (data: TallyData): Tally {
    const tally = new Tally(0, Latency.fromData(data.latency))
    tally.requests = data.requests
    tally.clientErrors = data.clientErrors
    tally.serverErrors = data.serverErrors
    tally.slow = data.slow
    return tally
  }
}
