import type { Metadata } from "next";
import type { ReactNode } from "react";
import { SocketProvider } from "@/components/shell/socket-provider";
import { ThemeScript } from "@/components/shell/theme-script";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Pipewatch", template: "%s · Pipewatch" },
  description: "Watch pipeline executions live",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <ThemeScript />
      </head>
      <body className="min-h-screen antialiased">
        {/* Pages bring their own <main>: the (dashboard) group layout, or the login page. */}
        <SocketProvider>{children}</SocketProvider>
      </body>
    </html>
  );
}
