/**
 * comlink's Node adapter ships as a UMD module whose typings say `export default` while Node hands
 * ESM the function itself; this resolves both shapes once.
 */
import nodeAdapter from 'comlink/dist/umd/node-adapter.js';

type NodeEndpointFn = typeof import('comlink/dist/umd/node-adapter.js').default;

const mod = nodeAdapter as unknown as NodeEndpointFn | { default: NodeEndpointFn };
export const nodeEndpoint: NodeEndpointFn = typeof mod === 'function' ? mod : mod.default;
