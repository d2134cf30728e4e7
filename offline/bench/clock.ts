// A virtual clock for the simulator's latency timers. The simulator delays each resource with
// `setTimeout(resolve, latencyMs(...))`; under this clock those timers fire in simulated time,
// and simulated time only moves when the process has nothing else to do: every registration the
// SDK has sent is waiting on such a timer, and no promise or callback is pending. So the program's
// CPU time (thousands of registrations at 50 clusters) never shows up as deploy time, timers never
// drift, and a run is exactly reproducible; the SDK's own dependency waiting still decides when
// each resource starts, because a registration only reaches the simulator once the SDK sends it.
//
// Only timers created right after `latencyMs` answered are virtual (`take`); every other timer of
// the process (the SDK's, runProgram's timeouts, the simulator's settle loop) stays real.

interface Timer {
    due: number;
    seq: number;
    fn: () => void;
}

export class VirtualClock {
    /** Simulated milliseconds since the clock started. */
    public now = 0;
    /** Times the clock moved on although work was still in flight (should stay 0). */
    public forcedAdvances = 0;
    /** Times the clock moved. */
    public advances = 0;
    private timers: Timer[] = [];
    private seq = 0;
    private armed = -1;
    private progress = 0;
    private lastProgress = -1;
    private idleRounds = 0;
    private lastChange = performance.now();
    private running = false;
    private realSetTimeout = globalThis.setTimeout;
    private installed = false;

    /**
     * @param busy how many registrations are in flight but not waiting on a virtual timer (the
     *   clock waits while this is positive; after `stallMs` of no progress it moves anyway).
     */
    constructor(
        private readonly busy: () => number = () => 0,
        private readonly stallMs = 2000,
    ) {}

    /** Route the next `setTimeout(fn, ms)` with exactly this delay to the virtual clock. */
    take(ms: number): number {
        this.armed = ms;
        return ms;
    }

    /** Something happened (a registration started or finished): the process is not idle. */
    touch(): void {
        this.progress++;
    }

    /** Virtual timers not yet fired. */
    get pending(): number {
        return this.timers.length;
    }

    install(): void {
        if (this.installed) return;
        this.installed = true;
        const real = this.realSetTimeout;
        // eslint-disable-next-line @typescript-eslint/no-this-alias -- the patched setTimeout is a plain function whose `this` is the caller's
        const clock = this;
        const patched = function (this: unknown, fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) {
            if (clock.armed >= 0 && ms === clock.armed && typeof fn === "function") {
                clock.armed = -1;
                clock.schedule(ms, () => fn(...args));
                // The simulator never clears or unrefs these; a minimal Timeout-like object suffices.
                const handle = {
                    ref: () => handle,
                    unref: () => handle,
                    hasRef: () => true,
                    refresh: () => handle,
                    [Symbol.toPrimitive]: () => 0,
                };
                return handle;
            }
            return real.call(globalThis, fn as never, ms, ...(args as []));
        };
        globalThis.setTimeout = patched as unknown as typeof setTimeout;
    }

    uninstall(): void {
        if (!this.installed) return;
        globalThis.setTimeout = this.realSetTimeout;
        this.installed = false;
    }

    schedule(ms: number, fn: () => void): void {
        this.timers.push({ due: this.now + ms, seq: this.seq++, fn });
        this.progress++;
        if (!this.running) {
            this.running = true;
            setImmediate(() => this.pump());
        }
    }

    private pump(): void {
        if (this.timers.length === 0) {
            this.running = false;
            return;
        }
        const t = performance.now();
        if (this.progress !== this.lastProgress) {
            this.lastProgress = this.progress;
            this.idleRounds = 0;
            this.lastChange = t;
        } else {
            this.idleRounds++;
        }
        const stalled = t - this.lastChange > this.stallMs;
        // Three quiet rounds of the event loop with every in-flight registration parked on a timer.
        if ((this.idleRounds >= 3 && this.busy() <= 0) || stalled) {
            if (stalled && this.busy() > 0) this.forcedAdvances++;
            this.fireNext();
            this.lastChange = performance.now();
        }
        setImmediate(() => this.pump());
    }

    private fireNext(): void {
        let due = Infinity;
        for (const x of this.timers) due = Math.min(due, x.due);
        const fire = this.timers.filter((x) => x.due === due).sort((a, b) => a.seq - b.seq);
        this.timers = this.timers.filter((x) => x.due !== due);
        this.now = due;
        this.advances++;
        this.progress++;
        for (const x of fire) x.fn();
    }
}
