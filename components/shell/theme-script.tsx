/**
 * Sets `.dark` on <html> before the first paint (no flash): the saved choice, else the system's.
 * The script is a constant written here, never data.
 */
const THEME_SCRIPT = `(function(){try{var t=localStorage.getItem("pipewatch-theme");var d=t==="dark"||(t!=="light"&&window.matchMedia("(prefers-color-scheme: dark)").matches);document.documentElement.classList.toggle("dark",d);document.documentElement.style.colorScheme=d?"dark":"light";}catch(e){}})();`;

export function ThemeScript() {
  return <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />;
}
