/**
 * The monitor: samples the machine and the process on an interval — memory, disk space of the data
 * folder, CPU, disk and network I/O, event-loop utilisation — for the metrics (the seed's
 * `system_memory_bytes`, `system_disk_free_bytes`, `system_cpu_usage`, plus I/O) and for whoever
 * asks (`sample`). Linux figures come from /proc and statfs; elsewhere it falls back to `node:os`
 * (memory, CPU) and reports I/O as 0, which the `source` field of a sample says.
 */
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ActorContext, ActorSpec, Behavior } from '../../runtime/actor.js';

export const MONITOR_ACTOR = 'monitor';

export interface ResourceSample {
  at: number;
  source: 'proc' | 'os';
  memory: { total: number; available: number; used: number };
  disk: { free: number; total: number };
  /** Busy share of all CPUs since the previous sample, 0..1. */
  cpu: number;
  diskIo: { read: number; write: number };
  network: { receive: number; transmit: number };
  /** Share of time the event loop was busy since the previous sample, 0..1. */
  eventLoopUtilization: number;
}

interface CpuTimes {
  busy: number;
  total: number;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** /proc/meminfo → bytes; MemAvailable is the kernel's estimate of what can be had without swapping. */
export function parseMeminfo(text: string): { total: number; available: number } | undefined {
  const field = (name: string): number | undefined => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m === null ? undefined : Number(m[1]) * 1024;
  };
  const total = field('MemTotal');
  const available = field('MemAvailable') ?? field('MemFree');
  return total === undefined || available === undefined ? undefined : { total, available };
}

/** The aggregate line of /proc/stat: busy = all but idle and iowait. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** /proc/net/dev → bytes received and sent over every interface but loopback. */
export function parseNetDev(text: string): { receive: number; transmit: number } {
  let receive = 0;
  let transmit = 0;
  for (const line of text.split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (rest === undefined || name === undefined || name.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    receive += f[0] ?? 0;
    transmit += f[8] ?? 0;
  }
  return { receive, transmit };
}

/** /proc/diskstats → bytes read and written by whole block devices (sectors are 512 bytes). */
export function parseDiskstats(
  text: string,
  isDisk: (name: string) => boolean,
): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const name = f[2];
    if (name === undefined || !isDisk(name)) continue;
    read += Number(f[5] ?? 0) * 512;
    write += Number(f[9] ?? 0) * 512;
  }
  return { read, write };
}

function osCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

export class ResourceMonitor {
  private readonly dataDir: string;
  private lastCpu: CpuTimes | undefined;
  private lastElu = performance.eventLoopUtilization();
  last: ResourceSample | undefined;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  sample(now: number): ResourceSample {
    const meminfo = readProc('/proc/meminfo');
    const mem = meminfo === undefined ? undefined : parseMeminfo(meminfo);
    const memory =
      mem === undefined
        ? { total: totalmem(), available: freemem(), used: totalmem() - freemem() }
        : { ...mem, used: mem.total - mem.available };
    const stat = readProc('/proc/stat');
    const cpuNow = (stat === undefined ? undefined : parseProcStat(stat)) ?? osCpuTimes();
    const prev = this.lastCpu;
    this.lastCpu = cpuNow;
    const dt = prev === undefined ? 0 : cpuNow.total - prev.total;
    const cpu = prev === undefined || dt <= 0 ? 0 : Math.min(1, Math.max(0, (cpuNow.busy - prev.busy) / dt));
    let disk = { free: 0, total: 0 };
    try {
      const s = statfsSync(this.dataDir);
      disk = { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
    } catch {
      // The folder may not exist yet.
    }
    const diskstats = readProc('/proc/diskstats');
    const diskIo =
      diskstats === undefined
        ? { read: 0, write: 0 }
        : parseDiskstats(
            diskstats,
            (name) => !/^(loop|ram|dm-|zram)/.test(name) && existsSync(`/sys/block/${name}`),
          );
    const netdev = readProc('/proc/net/dev');
    const network = netdev === undefined ? { receive: 0, transmit: 0 } : parseNetDev(netdev);
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastElu = performance.eventLoopUtilization();
    this.last = {
      at: now,
      source: meminfo === undefined ? 'os' : 'proc',
      memory,
      disk,
      cpu,
      diskIo,
      network,
      eventLoopUtilization: elu.utilization,
    };
    return this.last;
  }
}

/** Registers the resource gauges; they read the monitor's last sample at scrape time. */
export function registerResourceMetrics(registry: Registry, monitor: ResourceMonitor): void {
  const registers = [registry];
  const last = (): ResourceSample | undefined => monitor.last;
  new Gauge({
    name: 'system_memory_bytes',
    help: 'Machine memory: total, available (MemAvailable) and used (total − available).',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      const s = last();
      if (s === undefined) return;
      this.set({ kind: 'total' }, s.memory.total);
      this.set({ kind: 'available' }, s.memory.available);
      this.set({ kind: 'used' }, s.memory.used);
    },
  });
  const single = (name: string, help: string, read: (s: ResourceSample) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const s = last();
        if (s !== undefined) this.set(read(s));
      },
    });
  };
  single(
    'system_disk_free_bytes',
    'Free space for unprivileged writers on the data folder’s file system.',
    (s) => s.disk.free,
  );
  single('system_disk_total_bytes', 'Size of the data folder’s file system.', (s) => s.disk.total);
  single('system_cpu_usage', 'Busy share of all CPUs over the last monitor interval (0..1).', (s) => s.cpu);
  const io = (name: string, help: string, read: (s: ResourceSample) => Record<string, number>): void => {
    new Counter({
      name,
      help,
      labelNames: ['direction'] as const,
      registers,
      collect() {
        const s = last();
        if (s === undefined) return;
        this.reset();
        for (const [direction, bytes] of Object.entries(read(s))) this.inc({ direction }, bytes);
      },
    });
  };
  io(
    'system_disk_io_bytes_total',
    'Bytes read and written by the machine’s block devices since boot.',
    (s) => s.diskIo,
  );
  io(
    'system_network_io_bytes_total',
    'Bytes received and sent on all interfaces but loopback since boot.',
    (s) => s.network,
  );
  single(
    'jamey_event_loop_utilization',
    'Share of time the event loop was busy over the last monitor interval (0..1).',
    (s) => s.eventLoopUtilization,
  );
}

export type MonitorMessage = 'sample';

/** The monitor actor: samples every `intervalMs` (default 5 s) and answers `sample` asks with the newest. */
export function monitorActorSpec(
  monitor: ResourceMonitor,
  intervalMs = 5000,
): ActorSpec<MonitorMessage, ResourceSample> {
  return {
    name: MONITOR_ACTOR,
    mailbox: { capacity: 16, overflow: 'drop-newest' },
    start(ctx: ActorContext): Behavior<MonitorMessage, ResourceSample> {
      let timer: unknown;
      const tick = (): void => {
        monitor.sample(ctx.clock.now());
        timer = ctx.clock.setTimeout(tick, intervalMs);
      };
      tick();
      return {
        receive: () => monitor.sample(ctx.clock.now()),
        stop() {
          if (timer !== undefined) ctx.clock.clearTimeout(timer);
        },
      };
    },
  };
}
