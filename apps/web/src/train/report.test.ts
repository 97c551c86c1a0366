// The downloaded report is @fmnist/report's page (the CLI's report.html renderer) of the finished run: its figures,
// its misclassified test images, no script; hostile text in the run is text.
import { describe, expect, it } from 'vitest';
import { renderRunReportHtml } from './report';
import { trainTestRun } from './test-run';

describe('renderRunReportHtml', async () => {
  const run = await trainTestRun();
  const test = {
    images: new Uint8Array(run.evaluation.predictions.length * 784).fill(7),
    labels: new Uint8Array(run.evaluation.predictions.length),
  };
  for (let i = 0; i < test.labels.length; i++) test.labels[i] = run.evaluation.confusion.findIndex((row) => row.some(Boolean));

  it('is the report renderer of the CLI, made by the web app, with the run figures and no script', () => {
    const page = renderRunReportHtml(run, test);
    const pct = `${(run.evaluation.accuracy * 100).toFixed(2)}%`;
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain(`patch-mlp — ${pct} test accuracy`);
    expect(page).toContain('the fmnist web app (trained in the browser)');
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/<script|<link|src="http/i);
  });

  it('hostile text in the run (the engine name) comes out as text', () => {
    const page = renderRunReportHtml({ ...run, backend: '<img src=x onerror=alert(1)>' }, test);
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('test images that are not the evaluated ones are E_REPORT_INPUT, not a wrong page', () => {
    expect(() => renderRunReportHtml(run, { images: new Uint8Array(784), labels: new Uint8Array(1) })).toThrow(
      expect.objectContaining({ code: 'E_REPORT_INPUT' }),
    );
  });
});
