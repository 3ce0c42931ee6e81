import { AdapterStep } from './steps/AdapterStep.tsx';
import { CompareStep } from './steps/CompareStep.tsx';
import { DataStep } from './steps/DataStep.tsx';
import { ExportStep } from './steps/ExportStep.tsx';
import { ModelStep } from './steps/ModelStep.tsx';
import { STEPS } from './steps/StepSection.tsx';
import { TrainStep } from './steps/TrainStep.tsx';

/** The studio: one page, six steps in the order a person takes them. */
export function App() {
  return (
    <div className="app">
      <a className="skip-link" href="#step-data">
        Skip to your data
      </a>
      <header>
        <h1>tsugiki</h1>
        <p className="tagline">Teach a small language model your task, in this browser tab.</p>
        <p className="privacy">
          Private by design: your data and your adapters never leave this computer. The page downloads models from Hugging Face
          and nothing else, and once a model is in this browser it makes no network requests at all; there is no tracking.
        </p>
        <nav aria-label="Steps">
          <ol className="step-nav">
            {STEPS.map((s) => (
              <li key={s.id}>
                <a href={`#${s.id}`}>
                  {s.n}. {s.title}
                </a>
              </li>
            ))}
          </ol>
        </nav>
      </header>
      <main>
        <ModelStep />
        <DataStep />
        <AdapterStep />
        <TrainStep />
        <CompareStep />
        <ExportStep />
      </main>
    </div>
  );
}
