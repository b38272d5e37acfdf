/** What a function writes to stdout while it runs (EMF documents, JSON log lines), parsed per JSON line. */
export async function captureStdout<T>(fn: () => Promise<T>): Promise<{ result: T; docs: Record<string, any>[] }> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((c: unknown) => {
    chunks.push(String(c));
    return true;
  });
  try {
    const result = await fn();
    return { result, docs: chunks.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) };
  } finally {
    spy.mockRestore();
  }
}
