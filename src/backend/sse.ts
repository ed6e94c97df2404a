/**
 * Server-Sent Events from a byte stream (a streamed `fetch` body). Unlike EventSource this can
 * follow a request that carries an Authorization header; it runs in browsers, workers and Node.
 */

export interface SseEvent {
  event: string;
  data: string;
  id: string;
}

/**
 * The WHATWG parsing rules: LF/CRLF/CR line ends, `:` comments, `field: value`, multi-line
 * data joined with "\n", dispatch on a blank line; an unterminated last event is dropped.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id = '';
  /** One line; returns the event it completes, if any. */
  const line = (text: string): SseEvent | null => {
    if (text === '') {
      const out = data.length > 0 ? { event: event || 'message', data: data.join('\n'), id } : null;
      event = '';
      data = [];
      return out;
    }
    if (text.startsWith(':')) return null; // comment (keep-alive)
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
    return null;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== '\n' && c !== '\r') continue;
        if (c === '\r' && i === buffer.length - 1 && !done) break; // maybe the CR of a CRLF
        const ev = line(buffer.slice(start, i));
        if (c === '\r' && buffer[i + 1] === '\n') i++;
        start = i + 1;
        if (ev) yield ev;
      }
      buffer = buffer.slice(start);
      if (done) return; // an unterminated last event is dropped, as the spec says
    }
  } finally {
    reader.releaseLock();
  }
}
