import type { ReactNode } from 'react';

export interface StepInfo {
  n: number;
  id: string;
  title: string;
  /** One line: what the step does, in plain words. */
  summary: string;
}

/** The six steps of the studio, in the order a person goes through them. */
export const STEPS: StepInfo[] = [
  { n: 1, id: 'step-model', title: 'Model', summary: 'Pick a small base model: from a curated list (downloaded once, kept in this browser) or from files on your computer.' },
  { n: 2, id: 'step-data', title: 'Data', summary: 'Upload examples of the task: what the model reads (input) and what it should answer (output).' },
  { n: 3, id: 'step-adapter', title: 'Adapter', summary: 'Choose how big the add-on to the model (the LoRA adapter) is and which of its parts it changes.' },
  { n: 4, id: 'step-train', title: 'Train', summary: 'Train the adapter on your GPU and watch the loss (how wrong the model still is) go down; pause or stop any time.' },
  { n: 5, id: 'step-compare', title: 'Compare', summary: 'See the base model and the tuned one side by side on rows it has not trained on, and on your own prompts.' },
  { n: 6, id: 'step-export', title: 'Export', summary: 'Save the adapter in the standard PEFT format (for Hugging Face, vLLM, llama.cpp) a merged model, or an ONNX folder for transformers.js and ONNX Runtime.' },
];

/** A step of the page: numbered heading, one-line summary, then the step's controls. */
export function StepSection({ step, children }: { step: StepInfo; children?: ReactNode }) {
  return (
    <section id={step.id} aria-labelledby={`${step.id}-heading`} className="step panel">
      <h2 id={`${step.id}-heading`}>
        <span className="step-number" aria-hidden="true">
          {step.n}
        </span>
        <span className="visually-hidden">Step {step.n}: </span>
        {step.title}
      </h2>
      <p className="step-summary">{step.summary}</p>
      {children}
    </section>
  );
}

export function stepInfo(id: string): StepInfo {
  const step = STEPS.find((s) => s.id === id);
  if (!step) throw new Error(`no step "${id}"; steps are ${STEPS.map((s) => s.id).join(', ')}`);
  return step;
}
