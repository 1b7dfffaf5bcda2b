// The service's endpoints, as the page calls them. Errors arrive as RFC 9457 problems: thrown as ProblemError.

export class ProblemError extends Error {
  constructor(problem, status) {
    super(problem && problem.detail ? problem.detail : `the server answered ${status}`);
    this.problem = problem;
    this.status = status;
  }
}

async function answer(response) {
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ProblemError(body, response.status);
  }
  return body;
}

export async function getJson(path) {
  return answer(await fetch(path, { headers: { Accept: 'application/json' } }));
}

export async function postJson(path, body) {
  return answer(await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  }));
}

/** POSTs body and yields each server-sent event as {event, data} (data parsed as JSON) as it arrives. */
export async function* events(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    await answer(response);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) {
          event = line.slice(6).trim();
        } else if (line.startsWith('data:')) {
          data.push(line.slice(5).replace(/^ /, ''));
        }
      }
      if (data.length) {
        yield { event, data: JSON.parse(data.join('\n')) };
      }
    }
  }
}
