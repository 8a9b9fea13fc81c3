// The controller's HTTP API: JSON GETs, the token-bearing POST, and the event stream.

export async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": " + await errorOf(r));
  return r.json();
}

// POST with the admin's token ("Authorization: Bearer"); resolves to the JSON answer, rejects
// with the server's {"error"} message.
export async function postJson(path, token) {
  const r = await fetch(path, { method: "POST", cache: "no-store",
                                headers: { Authorization: "Bearer " + token } });
  if (!r.ok) throw new Error(await errorOf(r));
  return r.json();
}

async function errorOf(r) {
  let message = "HTTP " + r.status;
  try { message = (await r.json()).error || message; } catch (e) { /* not JSON */ }
  return message;
}

// How long to wait before opening a new stream once the browser has given one up (the server
// answered 410 or 503, or went away for good); the browser retries dropped ones by itself.
const kReopenMs = 5000;

// Follows /api/events (node events too): onOpen() whenever a stream (re)opens (refetch: events
// may have been missed while it was down), onEvent(event) for each event object (the JSON of
// `locus events --json`), onDown() when it drops. The browser resumes a dropped stream with
// Last-Event-ID, so it misses nothing; a stream it gave up on is replaced by a fresh one.
export function followEvents({ onOpen, onEvent, onDown }) {
  let source = null;
  const open = () => {
    source = new EventSource("api/events?nodes=1");
    source.onopen = () => onOpen();
    source.onmessage = m => {
      let event;
      try { event = JSON.parse(m.data); } catch (e) { return; }
      onEvent(event);
    };
    source.onerror = () => {
      onDown();
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(open, kReopenMs);
      }
    };
  };
  open();
}
