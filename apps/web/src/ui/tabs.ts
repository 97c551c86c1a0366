/** Accessible tabs (WAI-ARIA tabs pattern, automatic activation) synchronised with the URL hash (`#draw`, `#upload`, …). */

/**
 * Wires a `role="tablist"` whose tabs have `aria-controls` pointing at `role="tabpanel"` sections. Arrow keys, Home and
 * End move between tabs; the hash selects the initial tab and follows changes.
 *
 * @param tablist - the tab list element
 * @param onChange - called with the panel id's suffix (`draw`, `gallery`, …) whenever a tab is shown
 * @returns a function that shows a tab by name
 *
 * @example
 * ```ts
 * const show = setupTabs(byId('tabs'), (name) => console.log(name));
 * show('gallery');
 * ```
 */
export function setupTabs(tablist: HTMLElement, onChange: (name: string) => void): (name: string, focus?: boolean) => void {
  const tabs = Array.from(tablist.querySelectorAll<HTMLButtonElement>('[role="tab"]'));
  const nameOf = (tab: HTMLButtonElement) => (tab.getAttribute('aria-controls') ?? '').replace(/^panel-/, '');

  const show = (name: string, focus = false) => {
    const target = tabs.find((t) => nameOf(t) === name) ?? (tabs[0] as HTMLButtonElement);
    for (const tab of tabs) {
      const on = tab === target;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(tab.getAttribute('aria-controls') ?? '');
      if (panel) panel.hidden = !on;
    }
    if (focus) target.focus();
    const hash = `#${nameOf(target)}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
    onChange(nameOf(target));
  };

  tablist.addEventListener('click', (e) => {
    const tab = (e.target as HTMLElement).closest<HTMLButtonElement>('[role="tab"]');
    if (tab) show(nameOf(tab));
  });
  tablist.addEventListener('keydown', (e) => {
    const current = tabs.indexOf(document.activeElement as HTMLButtonElement);
    if (current < 0) return;
    let next = -1;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') next = (current + 1) % tabs.length;
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') next = (current - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabs.length - 1;
    if (next < 0) return;
    e.preventDefault();
    show(nameOf(tabs[next] as HTMLButtonElement), true);
  });
  window.addEventListener('hashchange', () => show(location.hash.slice(1)));
  show(location.hash.slice(1));
  return show;
}
