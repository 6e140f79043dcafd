/** The world worker: clients, the network switch and the shared disk server as one cluster node. */
import { serveNode, type WorkerScope } from './node-server';

serveNode(self as unknown as WorkerScope);
