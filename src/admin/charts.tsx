/** What the dashboard's charts share: chart.js registration, colours, axis options and the captioned box every chart sits in. */
import { BarElement, CategoryScale, Chart as ChartJS, Legend, LinearScale, LineElement, PointElement, Tooltip, type ChartOptions } from 'chart.js';

ChartJS.register(CategoryScale, LinearScale, PointElement, LineElement, BarElement, Tooltip, Legend);

export const COLORS = ['#2f6b3a', '#c26a1b', '#3465a4', '#8f3b8f', '#5c5c5c'];
export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function options(yTitle: string, extra: ChartOptions<'line' | 'bar'> = {}): ChartOptions<'line' | 'bar'> {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    scales: { y: { beginAtZero: true, title: { display: true, text: yTitle } } },
    ...extra,
  };
}

export function ChartBox({ id, title, children }: { id: string; title: string; children: React.ReactNode }) {
  return (
    <figure className="chart" data-testid={`chart-${id}`}>
      <figcaption>{title}</figcaption>
      <div className="canvas-box">{children}</div>
    </figure>
  );
}
