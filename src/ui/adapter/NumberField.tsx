import { useEffect, useState } from 'react';

export interface NumberFieldProps {
  id: string;
  label: string;
  value: number;
  min: number;
  max: number;
  step: number | 'any';
  /** Called with each valid number typed; invalid text stays in the box, marked, until fixed. */
  onChange: (value: number) => void;
  integer?: boolean;
}

/** A labelled number box that lets people type freely and only passes on numbers in range. */
export function NumberField({ id, label, value, min, max, step, onChange, integer = false }: NumberFieldProps) {
  const [text, setText] = useState(String(value));
  useEffect(() => {
    if (Number(text) !== value) setText(String(value));
    // only an outside change of `value` (a preset) replaces what is typed
  }, [value]);
  const n = Number(text);
  const valid = text.trim() !== '' && Number.isFinite(n) && n >= min && n <= max && (!integer || Number.isInteger(n));
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        min={min}
        max={max}
        step={step}
        value={text}
        aria-invalid={!valid}
        aria-describedby={valid ? undefined : `${id}-error`}
        onChange={(e) => {
          setText(e.target.value);
          const v = Number(e.target.value);
          if (e.target.value.trim() !== '' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))) onChange(v);
        }}
      />
      {valid ? null : (
        <span id={`${id}-error`} className="field-error">
          Enter {integer ? 'a whole number' : 'a number'} from {min} to {max}
        </span>
      )}
    </div>
  );
}
