import type { ReactNode } from "react";
import { DashboardFrame } from "@/components/shell/dashboard-frame";

/** Every dashboard page shares the header and the one <main>; /login sits outside this group with its own. */
export default function DashboardLayout({ children }: { children: ReactNode }) {
  return <DashboardFrame>{children}</DashboardFrame>;
}
