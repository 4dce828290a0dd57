/** The team's monitoring dashboard and review queue (admin token required). Filled in by the monitoring work. */
export function AdminPage() {
  return (
    <section aria-labelledby="admin-heading">
      <h2 id="admin-heading">Monitoring</h2>
      <p>Not built yet.</p>
    </section>
  );
}
