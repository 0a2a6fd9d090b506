import type { ReactNode } from "react";
import { SiteHeader } from "./site-header";

/** Skip link, header and the page's single <main> landmark (also used by the root not-found page, which has no group layout). */
export function DashboardFrame({ children }: { children: ReactNode }) {
  return (
    <>
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 btn">
        Skip to content
      </a>
      <SiteHeader />
      <main id="main" className="mx-auto max-w-7xl px-4 py-6 sm:px-6">
        {children}
      </main>
    </>
  );
}
