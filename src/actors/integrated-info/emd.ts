/**
 * Earth mover's distances used by IIT 3.0 (Oizumi et al. 2014, Text S2; PyPhi 1.2
 * `distance.hamming_emd`, `distance.effect_emd`, `compute/distance.py`).
 *
 * - `hammingEmd`: EMD between two distributions over the states of k binary nodes with the Hamming
 *   distance as ground cost. The Hamming distance is the shortest-path metric of the k-cube, so the
 *   transportation problem equals an uncapacitated min-cost flow on the k-cube graph (2^k nodes,
 *   k 2^k unit-cost arcs) instead of the dense 2^k x 2^k problem PyPhi hands to pyemd. Solved
 *   exactly by successive shortest paths with node potentials (Dijkstra on reduced costs).
 * - `transportCost`: the dense transportation problem used by the extended EMD between
 *   cause-effect structures (PyPhi `_ces_distance_emd` via pyemd's `emd_hat_gd_metric`).
 * - `round6`: Python's `round(x, 6)` (correctly rounded, ties to even), which PyPhi applies to
 *   every distance (`config.PRECISION = 6`).
 */

/** Residual mass below this is float noise from the inputs (which sum to 1 up to ~1e-16). */
const MASS_EPS = 1e-14;

let capV = 0;
let excess = new Float64Array(0);
let pot = new Int32Array(0);
let dist = new Int32Array(0);
let settled = new Uint8Array(0);
let prevNode = new Int32Array(0);
let prevBit = new Int8Array(0);
let flow = new Float64Array(0);
let heap = new Int32Array(0);

function ensure(V: number, k: number): void {
  if (V <= capV && flow.length >= V * k) return;
  capV = Math.max(V, capV);
  excess = new Float64Array(capV);
  pot = new Int32Array(capV);
  dist = new Int32Array(capV);
  settled = new Uint8Array(capV);
  prevNode = new Int32Array(capV);
  prevBit = new Int8Array(capV);
  flow = new Float64Array(capV * Math.max(k, 1));
  heap = new Int32Array(capV * (Math.max(k, 1) * 2 + 2));
}

/**
 * Exact EMD with Hamming ground distance between `a` and `b`, both of length 2^k (any fixed bit
 * order; the Hamming distance does not depend on it). Inputs are not modified.
 */
export function hammingEmd(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  const V = 1 << k;
  if (k === 0) return 0;
  if (k === 1) return Math.abs(a[0]! - b[0]!);
  ensure(V, k);
  let nExcess = 0;
  let nDeficit = 0;
  for (let x = 0; x < V; x++) {
    const e = a[x]! - b[x]!;
    excess[x] = e;
    if (e > MASS_EPS) nExcess++;
    else if (e < -MASS_EPS) nDeficit++;
    pot[x] = 0;
  }
  flow.fill(0, 0, V * k);
  // Heap entries pack (distance, node): distance * 4096 + node (k <= 12).
  while (nExcess > 0 && nDeficit > 0) {
    let hn = 0;
    for (let x = 0; x < V; x++) {
      settled[x] = 0;
      dist[x] = 0x3fffffff;
      if (excess[x]! > MASS_EPS) {
        dist[x] = 0;
        prevNode[x] = -1;
        heap[hn++] = x;
      }
    }
    // Entries are already a valid heap (all keys equal to their node index ordering is fine
    // because all distances are 0 and sift compares whole keys).
    let target = -1;
    let D = 0;
    while (hn > 0) {
      const top = heap[0]!;
      hn--;
      if (hn > 0) {
        const last = heap[hn]!;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= hn) break;
          const r = l + 1;
          const c = r < hn && heap[r]! < heap[l]! ? r : l;
          if (heap[c]! >= last) break;
          heap[i] = heap[c]!;
          i = c;
        }
        heap[i] = last;
      }
      const u = top & 4095;
      const du = top >>> 12;
      if (settled[u] || du !== dist[u]) continue;
      settled[u] = 1;
      if (excess[u]! < -MASS_EPS) {
        target = u;
        D = du;
        break;
      }
      const pu = pot[u]!;
      for (let i = 0; i < k; i++) {
        const v = u ^ (1 << i);
        if (settled[v]) continue;
        // Cancelling flow v -> u costs -1, otherwise pushing u -> v costs +1.
        const c = flow[v * k + i]! > MASS_EPS ? -1 : 1;
        const nd = du + c + pu - pot[v]!;
        if (nd < dist[v]!) {
          dist[v] = nd;
          prevNode[v] = u;
          prevBit[v] = i;
          // sift up
          let j = hn++;
          const key = nd * 4096 + v;
          while (j > 0) {
            const p = (j - 1) >> 1;
            if (heap[p]! <= key) break;
            heap[j] = heap[p]!;
            j = p;
          }
          heap[j] = key;
        }
      }
    }
    if (target < 0) break; // only float dust left
    for (let x = 0; x < V; x++) pot[x] = pot[x]! + (settled[x] ? dist[x]! : D);
    // Find the bottleneck along the path.
    let amount = -excess[target]!;
    let v = target;
    while (prevNode[v]! >= 0) {
      const u = prevNode[v]!;
      const i = prevBit[v]!;
      const back = flow[v * k + i]!;
      if (back > MASS_EPS && back < amount) amount = back;
      v = u;
    }
    if (excess[v]! < amount) amount = excess[v]!;
    // Augment.
    const source = v;
    v = target;
    while (prevNode[v]! >= 0) {
      const u = prevNode[v]!;
      const i = prevBit[v]!;
      const back = flow[v * k + i]!;
      if (back > MASS_EPS) flow[v * k + i] = back - amount;
      else flow[u * k + i] = flow[u * k + i]! + amount;
      v = u;
    }
    excess[source] = excess[source]! - amount;
    excess[target] = excess[target]! + amount;
    if (excess[source]! <= MASS_EPS) nExcess--;
    if (excess[target]! >= -MASS_EPS) nDeficit--;
  }
  let cost = 0;
  const m = V * k;
  for (let e = 0; e < m; e++) {
    const f = flow[e]!;
    if (f > 0) cost += f;
  }
  return cost;
}

/**
 * Exact min-cost transportation with free disposal: `supply[i]` units at sources (total >= total
 * demand), `demand[j]` units that must be delivered, `cost[i * nSinks + j] >= 0` per unit.
 * Successive shortest paths with potentials and dense Dijkstra, O((n+m)^2) per augmentation.
 * Exact for integer data (all values stay below 2^53), which is how `pyemd` is emulated below.
 */
export function transportCost(
  supply: ArrayLike<number>,
  demand: ArrayLike<number>,
  cost: ArrayLike<number>,
): number {
  const n = supply.length;
  const m0 = demand.length;
  if (n === 0 || m0 === 0) return 0;
  let sumS = 0;
  let sumD = 0;
  for (let i = 0; i < n; i++) sumS += supply[i]!;
  for (let j = 0; j < m0; j++) sumD += demand[j]!;
  // A dummy sink with zero costs absorbs the surplus.
  const m = m0 + 1;
  const V = n + m;
  const ex = new Float64Array(V);
  for (let i = 0; i < n; i++) ex[i] = supply[i]!;
  for (let j = 0; j < m0; j++) ex[n + j] = -demand[j]!;
  ex[n + m0] = -Math.max(sumS - sumD, 0);
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m0; j++) c[i * m + j] = cost[i * m0 + j]!;
  const f = new Float64Array(n * m);
  const p = new Float64Array(V);
  const d = new Float64Array(V);
  const done = new Uint8Array(V);
  const prev = new Int32Array(V);
  const eps = 1e-12 * Math.max(1, sumS);
  for (;;) {
    let anyD = false;
    for (let j = 0; j < m; j++) if (ex[n + j]! < -eps) anyD = true;
    if (!anyD) break;
    d.fill(Number.POSITIVE_INFINITY);
    done.fill(0);
    let anyS = false;
    for (let i = 0; i < n; i++) {
      if (ex[i]! > eps) {
        d[i] = 0;
        prev[i] = -1;
        anyS = true;
      }
    }
    if (!anyS) break;
    let target = -1;
    for (;;) {
      let u = -1;
      let best = Number.POSITIVE_INFINITY;
      for (let x = 0; x < V; x++) {
        if (!done[x] && d[x]! < best) {
          best = d[x]!;
          u = x;
        }
      }
      if (u < 0) break;
      done[u] = 1;
      if (u >= n && ex[u]! < -eps) {
        target = u;
        break;
      }
      if (u < n) {
        const pu = p[u]!;
        for (let j = 0; j < m; j++) {
          const v = n + j;
          if (done[v]) continue;
          let rc = c[u * m + j]! + pu - p[v]!;
          if (rc < 0) rc = 0;
          const nd = best + rc;
          if (nd < d[v]!) {
            d[v] = nd;
            prev[v] = u;
          }
        }
      } else {
        const j = u - n;
        const pu = p[u]!;
        for (let i = 0; i < n; i++) {
          if (done[i] || f[i * m + j]! <= eps) continue;
          let rc = -c[i * m + j]! + pu - p[i]!;
          if (rc < 0) rc = 0;
          const nd = best + rc;
          if (nd < d[i]!) {
            d[i] = nd;
            prev[i] = u;
          }
        }
      }
    }
    if (target < 0) break;
    const D = d[target]!;
    for (let x = 0; x < V; x++) p[x] = p[x]! + (done[x] ? d[x]! : D);
    let amount = -ex[target]!;
    let v = target;
    while (prev[v]! >= 0) {
      const u = prev[v]!;
      if (u >= n) {
        const back = f[v * m + (u - n)]!;
        if (back < amount) amount = back;
      }
      v = u;
    }
    if (ex[v]! < amount) amount = ex[v]!;
    const source = v;
    v = target;
    while (prev[v]! >= 0) {
      const u = prev[v]!;
      if (u < n) f[u * m + (v - n)] = f[u * m + (v - n)]! + amount;
      else f[v * m + (u - n)] = f[v * m + (u - n)]! - amount;
      v = u;
    }
    ex[source] = ex[source]! - amount;
    ex[target] = ex[target]! + amount;
  }
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m0; j++) total += f[i * m + j]! * c[i * m + j]!;
  return total;
}

/**
 * Emulation of `pyemd.emd(P, Q, C)` 0.5 (FastEMD `emd_hat_gd_metric<double>`), which PyPhi uses
 * for every Hamming EMD and for the extended EMD between cause-effect structures. pyemd does not
 * solve the real-valued problem: it cancels the mass common to P and Q (metric pre-flow), scales
 * masses by 1e6 / max(sum P, sum Q) and costs by 1e6 / max C, rounds both to integers, solves the
 * integer transportation problem (surplus discarded at no cost), scales back and adds
 * |sum P - sum Q| * max C. PyPhi's published values carry these ~1e-7 deviations, and its
 * 6-decimal rounding and tie-breaking see them, so they are reproduced here step by step.
 * `cost` is the dense N x N matrix (row = index of P, column = index of Q).
 */
export function pyemd(P: ArrayLike<number>, Q: ArrayLike<number>, cost: ArrayLike<number>): number {
  const N = P.length;
  let sumP = 0;
  let sumQ = 0;
  let maxC = cost[0]!;
  for (let i = 0; i < N; i++) {
    sumP += P[i]!;
    sumQ += Q[i]!;
    for (let j = 0; j < N; j++) if (cost[i * N + j]! > maxC) maxC = cost[i * N + j]!;
  }
  const maxSum = Math.max(sumP, sumQ);
  const minSum = Math.min(sumP, sumQ);
  const fPQ = 1000000 / maxSum;
  const fC = 1000000 / maxC;
  const src: number[] = [];
  const snk: number[] = [];
  const sv: number[] = [];
  const dv: number[] = [];
  for (let i = 0; i < N; i++) {
    const p = P[i]!;
    const q = Q[i]!;
    let pp: number;
    let qq: number;
    if (p < q) {
      pp = 0;
      qq = q - p;
    } else {
      pp = p - q;
      qq = 0;
    }
    const ip = Math.floor(pp * fPQ + 0.5);
    const iq = Math.floor(qq * fPQ + 0.5);
    if (ip !== 0) {
      src.push(i);
      sv.push(ip);
    }
    if (iq !== 0) {
      snk.push(i);
      dv.push(iq);
    }
  }
  let sumIp = 0;
  let sumIq = 0;
  for (const v of sv) sumIp += v;
  for (const v of dv) sumIq += v;
  let intCost = 0;
  if (src.length > 0 && snk.length > 0) {
    // The side with more (integer) mass supplies; the other side must be fully served.
    const swap = sumIq > sumIp;
    const rows = swap ? snk : src;
    const cols = swap ? src : snk;
    const rv = swap ? dv : sv;
    const cv = swap ? sv : dv;
    const c = new Float64Array(rows.length * cols.length);
    for (let a = 0; a < rows.length; a++) {
      for (let b = 0; b < cols.length; b++) {
        const i = swap ? cols[b]! : rows[a]!;
        const j = swap ? rows[a]! : cols[b]!;
        c[a * cols.length + b] = Math.floor(cost[i * N + j]! * fC + 0.5);
      }
    }
    intCost = transportCost(rv, cv, c);
  }
  let dist = intCost / fPQ;
  dist = dist / fC;
  dist += (maxSum - minSum) * maxC;
  return dist;
}

const hammingCache = new Map<number, Float64Array>();
/** The Hamming distance matrix of k binary nodes (PyPhi `_hamming_matrix`). */
export function hammingMatrix(k: number): Float64Array {
  let h = hammingCache.get(k);
  if (h) return h;
  const V = 1 << k;
  h = new Float64Array(V * V);
  for (let i = 0; i < V; i++) {
    for (let j = 0; j < V; j++) {
      let x = i ^ j;
      let d = 0;
      while (x) {
        d += x & 1;
        x >>= 1;
      }
      h[i * V + j] = d;
    }
  }
  hammingCache.set(k, h);
  return h;
}

/** PyPhi `hamming_emd` as computed through pyemd (see `pyemd`). */
export function pyemdHamming(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  if (k === 0) return 0;
  return pyemd(a, b, hammingMatrix(k));
}

/**
 * Bound on |pyemdHamming - hammingEmd| from pyemd's integer rounding: each of the 2^k masses is
 * off by at most 0.5 / 1e6 (moved at most k) and each unit of cost by 0.5 / 1e6 per unit of mass.
 */
export function pyemdTolerance(k: number): number {
  return 0.5 * k * ((1 << k) + 2) * 1e-6 + 1e-9;
}

/**
 * Python's `round(x, 6)`: the double nearest to the decimal value obtained by rounding the exact
 * binary value of x to 6 places, ties to even. The fast path is exact unless x * 1e6 is within
 * 1e-6 of a half-integer; that case is decided on the exact decimal expansion.
 */
export function round6(x: number): number {
  if (x < 0) return -round6(-x);
  const y = x * 1e6;
  const fl = Math.floor(y);
  const frac = y - fl;
  if (Math.abs(frac - 0.5) > 1e-6 || y > 1e15) return Math.round(y) / 1e6;
  const s = x.toFixed(100);
  const dot = s.indexOf('.');
  const intPart = s.slice(0, dot);
  const digits = s.slice(dot + 1);
  const head = digits.slice(0, 6);
  const rest = digits.slice(6);
  let n = BigInt(intPart + head);
  const first = rest.charCodeAt(0) - 48;
  const tail = rest.slice(1);
  const isTie = first === 5 && /^0*$/.test(tail);
  if (first > 5 || (first === 5 && !isTie) || (isTie && n % 2n === 1n)) n += 1n;
  return Number(n) / 1e6;
}

/** Sum of |P(node i OFF)| differences: EMD between two product distributions (PyPhi `effect_emd`). */
export function marginalEmd(q1: ArrayLike<number>, q2: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < q1.length; i++) s += Math.abs(q1[i]! - q2[i]!);
  return s;
}
