/**
 * Imported first by main.ts: on an older Node the service stops before anything else loads, with
 * one line saying which Node it needs and how to start it.
 */
import { unsupportedNodeMessage } from './node-version';

const problem = unsupportedNodeMessage(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
