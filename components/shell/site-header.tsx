import Link from "next/link";
import { ConnectionStatus } from "./connection-status";
import { NavLinks } from "./nav-links";
import { ThemeToggle } from "./theme-toggle";

export function SiteHeader() {
  return (
    <header className="sticky top-0 z-30 border-b border-zinc-200 bg-white/90 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/90">
      <div className="mx-auto flex h-14 max-w-7xl items-center gap-2 px-4 sm:gap-4 sm:px-6">
        <Link href="/" aria-label="Pipewatch home" className="flex items-center gap-2 rounded-md font-semibold tracking-tight focus-ring">
          <span aria-hidden="true" className="grid h-7 w-7 place-items-center rounded-md bg-sky-600 text-sm text-white">
            ▸
          </span>
          <span className="hidden sm:inline">Pipewatch</span>
        </Link>
        <NavLinks />
        <div className="ml-auto flex items-center gap-2">
          <ConnectionStatus />
          <ThemeToggle />
        </div>
      </div>
    </header>
  );
}
