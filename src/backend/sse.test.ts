import { describe, expect, it } from 'vitest';
import { readSse, type SseEvent } from './sse';
import { byteStream } from './testing';

async function collect(chunks: string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const ev of readSse(byteStream(chunks))) out.push(ev);
  return out;
}

describe('readSse', () => {
  it('parses events split anywhere, CRLF/CR line ends, comments and multi-line data', async () => {
    const events = await collect([
      'retry: 2000\r',
      '\n\r\n: keep-alive\n\nid: 1\nev',
      'ent: progress\ndata: {"a":',
      '1}\r\n\r\nid: 2\revent: end\rdata: line1\rdata:line2\r\r',
      'data: unterminated',
    ]);
    expect(events).toEqual([
      { event: 'progress', data: '{"a":1}', id: '1' },
      { event: 'end', data: 'line1\nline2', id: '2' },
    ]);
  });

  it('names events without an event field "message"', async () => {
    expect(await collect(['data: x\n\n'])).toEqual([{ event: 'message', data: 'x', id: '' }]);
  });
});
