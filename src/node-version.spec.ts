import { unsupportedNodeMessage } from './node-version';

describe('supported Node', () => {
  it('accepts Node 24 and later', () => {
    for (const v of ['24.0.0', '24.21.0', 'v24.21.0', '25.1.0', '26.10.0']) expect(unsupportedNodeMessage(v)).toBeUndefined();
  });
  it('refuses older Node with a line naming the version it needs and how to start', () => {
    for (const v of ['20.20.2', 'v22.11.0', '23.9.9', '18.0.0']) {
      const message = unsupportedNodeMessage(v);
      expect(message).toContain('needs Node 24 or later');
      expect(message).toContain(v);
      expect(message).toContain('npm start');
    }
    expect(unsupportedNodeMessage('garbage')).toContain('needs Node 24');
  });
});
