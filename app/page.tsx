export default function HomePage() {
  return <main className="p-6">Pipewatch</main>;
}
