/** The oldest Node major the service runs on: Node 24 LTS (Node 20 reached its end of life in April 2026). */
export const REQUIRED_NODE_MAJOR = 24;

/**
 * Why this Node cannot run the service, or undefined when it can. The project installs Node 24
 * itself (the `node` package from the npm registry), and npm scripts run on it: `npm start`.
 */
export function unsupportedNodeMessage(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (major >= REQUIRED_NODE_MAJOR) return undefined;
  return (
    `flash-sale checkout needs Node ${REQUIRED_NODE_MAJOR} or later, and this is Node ${version}. ` +
    `Start it with \`npm start\` (after \`npm ci\`), which runs on the Node ${REQUIRED_NODE_MAJOR} the project installs in node_modules.`
  );
}
