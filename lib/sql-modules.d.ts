/** `.sql` files are imported as their text: esbuild's `text` loader in Lambda bundles, a jest
 * transform in tests, and a require hook (scripts/register-sql.cjs) for the tsx CLIs. */
declare module '*.sql' {
  const text: string;
  export default text;
}
