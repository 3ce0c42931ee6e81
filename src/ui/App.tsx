import { GpuPanel } from './GpuPanel.tsx';

export function App() {
  return (
    <div className="app">
      <header>
        <h1>tsugiki</h1>
        <p className="tagline">Teach a small language model your task, in this browser tab.</p>
        <p className="privacy">
          Private by design: your data and your adapters never leave this computer. The page downloads models from Hugging Face
          and nothing else; there is no tracking.
        </p>
      </header>
      <main>
        <GpuPanel />
      </main>
    </div>
  );
}
