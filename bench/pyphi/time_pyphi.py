#!/usr/bin/env python3
"""Baseline timings and reference results from PyPhi 1.2 for the networks written by bench/phi.ts.

Usage: PYTHONPATH=<pyphi 1.2 checkout> python3 bench/pyphi/time_pyphi.py networks.json [--repeat N]
       [--max-seconds S] [--complex]

Input: a JSON list of {"name", "tpm" (state-by-node, little-endian rows), "cm", "state",
"nodes" (optional)}. Output (stdout): a JSON list with, per network, the big-Phi analysis of the
subsystem (or the major complex with --complex) and the time of the compute call alone, with
PyPhi's parallel options off. A network is skipped (reported with "skipped") once a previous
network of the same or smaller size took longer than --max-seconds.
"""
import argparse
import collections
import collections.abc
import json
import os
import sys
import tempfile
import time

# PyPhi 1.2 predates Python 3.10, where these aliases were removed.
for _name in ('Iterable', 'Mapping', 'Sequence', 'Hashable', 'MutableMapping', 'Callable'):
    setattr(collections, _name, getattr(collections.abc, _name))
os.environ.setdefault('PYPHI_WELCOME_OFF', 'yes')
# PyPhi writes pyphi.log and a cache directory into the working directory on import.
_NETWORKS_ARG = [os.path.abspath(a) if a.endswith('.json') else a for a in sys.argv[1:]]
os.chdir(tempfile.gettempdir())

import pyphi  # noqa: E402

pyphi.config.PARALLEL_CONCEPT_EVALUATION = False
pyphi.config.PARALLEL_CUT_EVALUATION = False
pyphi.config.PARALLEL_COMPLEX_EVALUATION = False
pyphi.config.PROGRESS_BARS = False
pyphi.config.CACHE_SIAS = False
pyphi.config.LOG_STDOUT_LEVEL = None
pyphi.config.LOG_FILE_LEVEL = None


def concept_json(c):
    return {
        'mechanism': list(c.mechanism),
        'phi': c.phi,
        'cause': {'purview': list(c.cause.purview), 'phi': c.cause.phi,
                  'repertoire': pyphi.distribution.flatten(c.cause.repertoire).tolist()},
        'effect': {'purview': list(c.effect.purview), 'phi': c.effect.phi,
                   'repertoire': pyphi.distribution.flatten(c.effect.repertoire).tolist()},
    }


def sia_json(sia):
    cut = sia.cut
    has_cut = hasattr(cut, 'from_nodes')
    return {
        'phi': sia.phi,
        'nodes': list(sia.subsystem.node_indices),
        'cut': {'from': list(cut.from_nodes), 'to': list(cut.to_nodes)} if has_cut else None,
        'concepts': [concept_json(c) for c in sia.ces],
        'partitioned': {'count': len(sia.partitioned_ces),
                        'phiSum': round(sum(c.phi for c in sia.partitioned_ces), 6)},
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('networks')
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--max-seconds', type=float, default=300.0)
    parser.add_argument('--complex', action='store_true')
    args = parser.parse_args(_NETWORKS_ARG)
    with open(args.networks) as f:
        networks = json.load(f)
    out = []
    too_slow_size = None
    for spec in networks:
        size = len(spec['state'])
        if too_slow_size is not None and size >= too_slow_size:
            out.append({'name': spec['name'], 'skipped': 'a smaller network exceeded --max-seconds'})
            continue
        network = pyphi.Network(spec['tpm'], cm=spec.get('cm'))
        state = tuple(spec['state'])
        best = None
        result = None
        for _ in range(args.repeat):
            if args.complex:
                start = time.perf_counter()
                result = pyphi.compute.major_complex(network, state)
                elapsed = time.perf_counter() - start
            else:
                subsystem = pyphi.Subsystem(network, state, spec.get('nodes'))
                start = time.perf_counter()
                result = pyphi.compute.sia(subsystem)
                elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        entry = {'name': spec['name'], 'seconds': best}
        entry.update(sia_json(result))
        out.append(entry)
        print('{}: {:.3f}s phi={}'.format(spec['name'], best, result.phi), file=sys.stderr)
        if best > args.max_seconds:
            too_slow_size = size
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
