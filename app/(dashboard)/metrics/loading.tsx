export default function Loading() {
  const block = "animate-pulse rounded-lg bg-zinc-200 dark:bg-zinc-800";
  return (
    <div className="space-y-6" aria-busy="true" aria-label="Loading">
      <div className={`h-8 w-40 ${block}`} />
      <div className="grid grid-cols-2 gap-4 md:grid-cols-5">
        {Array.from({ length: 5 }, (_, i) => (
          <div key={i} className={`h-24 ${block}`} />
        ))}
      </div>
      <div className="grid gap-6 lg:grid-cols-2">
        {Array.from({ length: 4 }, (_, i) => (
          <div key={i} className={`h-72 ${block}`} />
        ))}
      </div>
    </div>
  );
}
