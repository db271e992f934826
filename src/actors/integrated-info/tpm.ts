/**
 * Network input, validation and TPM handling for the IIT 3.0 computation.
 *
 * Conventions follow PyPhi 1.2 (`pyphi/convert.py`, `pyphi/tpm.py`, `pyphi/validate.py`):
 * - a state-by-node TPM has 2^n rows and n columns; row `i` is the state whose node `j` is
 *   `(i >> j) & 1` (little-endian: node 0 is the least significant bit) and entry `[i][j]` is the
 *   probability that node `j` is ON at t+1;
 * - a state-by-state TPM is 2^n x 2^n with little-endian row and column indices; it is converted
 *   to state-by-node form assuming conditional independence (and rejected if it is not, as PyPhi's
 *   `validate.conditionally_independent` does);
 * - `cm[i][j] = 1` means node i sends a connection to node j; without a cm every node is
 *   connected to every node.
 *
 * Everything here is pure: no I/O, no Node-specific API, so it runs inside a worker thread.
 */

import { JameyError } from '../../runtime/errors.js';

/** The plain (structured-clone friendly) description of a network and its current state. */
export interface NetworkInput {
  /** State-by-node (2^n x n) or state-by-state (2^n x 2^n) TPM, little-endian row order. */
  tpm: readonly (readonly number[])[];
  /** n x n connectivity matrix; omitted means fully connected (PyPhi default). */
  cm?: readonly (readonly number[])[] | undefined;
  /** Current state of every network node (0 or 1). */
  state: readonly number[];
}

/** A validated network in flat typed-array form. */
export interface PreparedNetwork {
  readonly size: number;
  /** State-by-node TPM: `tpm[s * size + j]` = P(node j ON at t+1 | state s). */
  readonly tpm: Float64Array;
  /** Connectivity: `cm[i * size + j]` = 1 if i -> j. */
  readonly cm: Uint8Array;
  readonly state: Uint8Array;
}

interface Problem {
  path: string;
  problem: string;
}

function fail(message: string, details: Problem[]): never {
  throw new JameyError('JAMEY_ERR_VALIDATION', message, { details });
}

/** Largest network accepted: the state-by-node TPM has 2^n rows; beyond this exact IIT is hopeless. */
export const MAX_NODES = 12;

function isSquare(rows: readonly (readonly number[])[]): boolean {
  return rows.every((r) => Array.isArray(r) && r.length === rows.length);
}

/**
 * Converts a state-by-state TPM to state-by-node form (PyPhi `convert.state_by_state2state_by_node`)
 * and checks conditional independence by converting back (`validate.conditionally_independent`,
 * which uses `np.allclose`, i.e. |a - b| <= 1e-8 + 1e-5 |b|).
 */
function stateByStateToStateByNode(sbs: readonly (readonly number[])[], n: number): Float64Array {
  const S = 1 << n;
  const out = new Float64Array(S * n);
  for (let i = 0; i < S; i++) {
    const row = sbs[i]!;
    for (let j = 0; j < n; j++) {
      let p = 0;
      for (let t = 0; t < S; t++) if ((t >> j) & 1) p += row[t]!;
      out[i * n + j] = p;
    }
  }
  // Round trip: the conditionally independent state-by-state TPM implied by `out`.
  for (let i = 0; i < S; i++) {
    const row = sbs[i]!;
    for (let t = 0; t < S; t++) {
      let p = 1;
      for (let j = 0; j < n; j++) {
        const on = out[i * n + j]!;
        p *= (t >> j) & 1 ? on : 1 - on;
      }
      const diff = Math.abs(row[t]! - p);
      if (diff > 1e-8 + 1e-5 * Math.abs(p)) {
        fail('TPM is not conditionally independent', [
          { path: `tpm[${i}][${t}]`, problem: 'state-by-state TPM is not conditionally independent' },
        ]);
      }
    }
  }
  return out;
}

/**
 * Validates the input and returns it in flat form. Throws `JAMEY_ERR_VALIDATION` with one
 * `{ path, problem }` per defect found.
 */
export function prepareNetwork(input: NetworkInput): PreparedNetwork {
  const problems: Problem[] = [];
  const { tpm, state } = input;
  if (!Array.isArray(tpm) || tpm.length === 0 || !tpm.every((r) => Array.isArray(r))) {
    fail('Invalid TPM', [{ path: 'tpm', problem: 'must be a non-empty array of rows' }]);
  }
  if (!Array.isArray(state)) fail('Invalid state', [{ path: 'state', problem: 'must be an array' }]);
  const rows = tpm.length;
  const n = Math.round(Math.log2(rows));
  if (1 << n !== rows || n < 1 || n > MAX_NODES) {
    fail('Invalid TPM shape', [
      { path: 'tpm', problem: `must have 2^n rows with 1 <= n <= ${MAX_NODES}; got ${rows} rows` },
    ]);
  }
  const cols = tpm[0]!.length;
  if (!tpm.every((r) => r.length === cols)) {
    fail('Invalid TPM shape', [{ path: 'tpm', problem: 'all rows must have the same length' }]);
  }
  const stateByState = cols === rows && !(cols === n && rows === n);
  if (!stateByState && cols !== n) {
    fail('Invalid TPM shape', [
      {
        path: 'tpm',
        problem: `state-by-node TPM must be 2^n x n (or state-by-state 2^n x 2^n); got ${rows} x ${cols}`,
      },
    ]);
  }
  for (let i = 0; i < rows; i++) {
    const r = tpm[i]!;
    for (let j = 0; j < cols; j++) {
      const v = r[j];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
        problems.push({ path: `tpm[${i}][${j}]`, problem: 'probability must be a number in [0, 1]' });
      }
    }
  }
  if (stateByState && problems.length === 0) {
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      for (const v of tpm[i]!) sum += v;
      if (Math.abs(sum - 1) > 1e-6)
        problems.push({ path: `tpm[${i}]`, problem: 'state-by-state row must sum to 1' });
    }
  }
  if (state.length !== n) {
    problems.push({ path: 'state', problem: `must have one entry per node (${n}); got ${state.length}` });
  }
  state.forEach((v, i) => {
    if (v !== 0 && v !== 1) problems.push({ path: `state[${i}]`, problem: 'node states must be 0 or 1' });
  });
  const cm = new Uint8Array(n * n);
  if (input.cm === undefined || input.cm === null) {
    cm.fill(1);
  } else if (!Array.isArray(input.cm) || input.cm.length !== n || !isSquare(input.cm)) {
    problems.push({ path: 'cm', problem: `connectivity matrix must be ${n} x ${n}` });
  } else {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const v = input.cm[i]![j];
        if (v !== 0 && v !== 1) problems.push({ path: `cm[${i}][${j}]`, problem: 'must be 0 or 1' });
        else cm[i * n + j] = v;
      }
    }
  }
  if (problems.length > 0) fail(problems.length === 1 ? problems[0]!.problem : 'Invalid network', problems);

  let flat: Float64Array;
  if (stateByState) {
    flat = stateByStateToStateByNode(tpm, n);
  } else {
    flat = new Float64Array(rows * n);
    for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) flat[i * n + j] = tpm[i]![j]!;
  }
  return { size: n, tpm: flat, cm, state: Uint8Array.from(state) };
}

/** Number of set bits. */
export function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Positions of the set bits of `mask`, ascending. */
export function bitsOf(mask: number): number[] {
  const out: number[] = [];
  for (let i = 0; mask >> i; i++) if ((mask >> i) & 1) out.push(i);
  return out;
}

/**
 * The subsystem TPM conditioned on the state of the external nodes (PyPhi `tpm.condition_tpm`),
 * re-indexed by local subsystem state: `out[s * k + j]` for local state `s` (bit i = node
 * `nodes[i]`) and local node j.
 */
export function conditionTpm(net: PreparedNetwork, nodes: readonly number[]): Float64Array {
  const n = net.size;
  const k = nodes.length;
  const S = 1 << k;
  let base = 0;
  const inSub = new Uint8Array(n);
  for (const v of nodes) inSub[v] = 1;
  for (let v = 0; v < n; v++) if (!inSub[v] && net.state[v]) base |= 1 << v;
  const out = new Float64Array(S * k);
  for (let s = 0; s < S; s++) {
    let g = base;
    for (let i = 0; i < k; i++) if ((s >> i) & 1) g |= 1 << nodes[i]!;
    for (let j = 0; j < k; j++) out[s * k + j] = net.tpm[g * n + nodes[j]!]!;
  }
  return out;
}

/**
 * PyPhi `validate.state_reachable`: the subsystem's current state must have non-zero probability
 * from at least one previous state of the conditioned TPM.
 */
export function isStateReachable(
  net: PreparedNetwork,
  nodes: readonly number[],
  conditioned: Float64Array,
): boolean {
  const k = nodes.length;
  const S = 1 << k;
  for (let s = 0; s < S; s++) {
    let ok = true;
    for (let j = 0; j < k && ok; j++) {
      const d = conditioned[s * k + j]! - net.state[nodes[j]!]!;
      if (!(d > -1 && d < 1)) ok = false;
    }
    if (ok) return true;
  }
  return false;
}

/** PyPhi `connectivity.is_strong` on the cm restricted to `nodes` (a singleton is strong). */
export function isStronglyConnected(cm: Uint8Array, n: number, nodes: readonly number[]): boolean {
  const k = nodes.length;
  if (k <= 1) return true;
  const reach = (forward: boolean): boolean => {
    const seen = new Uint8Array(k);
    const stack = [0];
    seen[0] = 1;
    let count = 1;
    while (stack.length > 0) {
      const a = stack.pop()!;
      for (let b = 0; b < k; b++) {
        if (seen[b]) continue;
        const e = forward ? cm[nodes[a]! * n + nodes[b]!] : cm[nodes[b]! * n + nodes[a]!];
        if (e) {
          seen[b] = 1;
          count++;
          stack.push(b);
        }
      }
    }
    return count === k;
  };
  return reach(true) && reach(false);
}

/** PyPhi `connectivity.causally_significant_nodes`: nodes with at least one input and one output. */
export function causallySignificantNodes(net: PreparedNetwork): number[] {
  const n = net.size;
  const out: number[] = [];
  for (let v = 0; v < n; v++) {
    let ins = 0;
    let outs = 0;
    for (let u = 0; u < n; u++) {
      ins += net.cm[u * n + v]!;
      outs += net.cm[v * n + u]!;
    }
    if (ins > 0 && outs > 0) out.push(v);
  }
  return out;
}
