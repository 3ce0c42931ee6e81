import { useState, type DragEvent, type ReactNode } from 'react';

interface DropAreaProps {
  /** The visible title, which is also the group's accessible name. */
  title: string;
  titleId: string;
  testId: string;
  onDrop: (data: DataTransfer) => void;
  children: ReactNode;
}

/** A labelled area that takes dropped files and highlights while something is dragged over it. */
export function DropArea({ title, titleId, testId, onDrop, children }: DropAreaProps) {
  const [dragging, setDragging] = useState(false);
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    onDrop(e.dataTransfer);
  };
  return (
    <div
      className={dragging ? 'drop-zone dragging' : 'drop-zone'}
      role="group"
      aria-labelledby={titleId}
      data-testid={testId}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={drop}
    >
      <p id={titleId} className="drop-zone-title">
        {title}
      </p>
      {children}
    </div>
  );
}
