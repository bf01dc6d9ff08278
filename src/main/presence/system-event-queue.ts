/**
 * Per-session queue of system events (§3.3): at most 20 per session, consecutive
 * duplicates dropped; consumed by the session's next agent turn.
 */
const MAX_PER_SESSION = 20;

export class SystemEventQueue {
  private readonly queues = new Map<string, string[]>();

  enqueue(sessionKey: string, text: string): void {
    let q = this.queues.get(sessionKey);
    if (!q) {
      q = [];
      this.queues.set(sessionKey, q);
    }
    if (q[q.length - 1] === text) return;
    q.push(text);
    if (q.length > MAX_PER_SESSION) q.splice(0, q.length - MAX_PER_SESSION);
  }

  peek(sessionKey: string): readonly string[] {
    return this.queues.get(sessionKey) ?? [];
  }

  drain(sessionKey: string): string[] {
    const q = this.queues.get(sessionKey) ?? [];
    this.queues.delete(sessionKey);
    return q;
  }
}
