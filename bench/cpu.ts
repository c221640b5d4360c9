/**
 * CPU accounting from Linux's /proc, per measured window: the CPU time the
 * system under test used (all its processes: LB, DBs, queue, Redis), the
 * load generator's (this process), and everybody else's on the machine.
 *
 * On a shared machine throughput and latency move with the neighbours' load;
 * server CPU time per request moves much less, so it is reported beside them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

let ticksPerSecond = 0;
function clockTicks(): number {
  if (!ticksPerSecond) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    ticksPerSecond = Number(r.stdout?.trim()) || 100;
  }
  return ticksPerSecond;
}

export interface CpuSample {
  atMs: number;
  /** Busy ticks of the whole machine (user, nice, system, irq, softirq, steal). */
  machineBusy: number;
  /** Ticks used by the given processes, and by this one. */
  servers: number;
  self: number;
}

function processTicks(pid: number | 'self'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

export function sampleCpu(pids: number[]): CpuSample | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = line;
    return {
      atMs: performance.now(),
      machineBusy: user + nice + system + irq + softirq + (steal || 0),
      servers: pids.reduce((n, pid) => n + processTicks(pid), 0),
      self: processTicks('self'),
    };
  } catch {
    return null; // not Linux
  }
}

export interface CpuUse {
  /** Average cores busy during the window. */
  serverCores: number;
  loadGeneratorCores: number;
  /** Other processes on the machine: the noise. */
  otherCores: number;
  machineCores: number;
  /** CPU time of the system under test per successful request, microseconds. */
  serverUsPerRequest: number;
}

export function cpuBetween(a: CpuSample, b: CpuSample, requests: number): CpuUse {
  const hz = clockTicks();
  const seconds = (b.atMs - a.atMs) / 1000;
  const servers = (b.servers - a.servers) / hz;
  const self = (b.self - a.self) / hz;
  const machine = (b.machineBusy - a.machineBusy) / hz;
  return {
    serverCores: servers / seconds,
    loadGeneratorCores: self / seconds,
    otherCores: Math.max(0, machine - servers - self) / seconds,
    machineCores: os.cpus().length,
    serverUsPerRequest: requests > 0 ? (servers * 1e6) / requests : NaN,
  };
}

/** CpuUse over several windows of `seconds` with `requests` each: cores weighted by time, CPU per request by requests. */
export function mergeCpu(parts: readonly { cpu: CpuUse; seconds: number; requests: number }[]): CpuUse | undefined {
  if (parts.length === 0) return undefined;
  const seconds = parts.reduce((n, p) => n + p.seconds, 0);
  const requests = parts.reduce((n, p) => n + p.requests, 0);
  const cores = (f: (c: CpuUse) => number) => parts.reduce((n, p) => n + f(p.cpu) * p.seconds, 0) / seconds;
  return {
    serverCores: cores((c) => c.serverCores),
    loadGeneratorCores: cores((c) => c.loadGeneratorCores),
    otherCores: cores((c) => c.otherCores),
    machineCores: parts[0].cpu.machineCores,
    serverUsPerRequest: requests > 0 ? parts.reduce((n, p) => n + (Number.isFinite(p.cpu.serverUsPerRequest) ? p.cpu.serverUsPerRequest * p.requests : 0), 0) / requests : NaN,
  };
}
