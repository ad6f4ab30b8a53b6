/**
 * The canvas's dot grid, drawn so that a pan never repaints it. React Flow's Background
 * moves its SVG pattern on every frame of a pan, and the whole canvas is painted again;
 * here one layer a tile larger than the canvas carries the dots, and a pan only slides
 * that layer by the pan modulo the grid (the compositor's work). A zoom redraws it.
 */
import { useStore } from '@xyflow/react';
import { GRID } from './layout';

/** `v` modulo `m`, in [0, m). */
const mod = (v: number, m: number): number => ((v % m) + m) % m;

/** The dots on the canvas's grid (one every GRID canvas units), behind the edges and cards. */
export function Dots() {
  const x = useStore((s) => s.transform[0]);
  const y = useStore((s) => s.transform[1]);
  const zoom = useStore((s) => s.transform[2]);
  const gap = GRID * zoom;
  const radius = Math.max(0.5, zoom / 2);
  // Each tile has its dot in the middle: the layer starts half a tile (and one more, so
  // the canvas's edge is always covered) before the first dot left of and above the canvas.
  const left = mod(x, gap) - gap * 1.5;
  const top = mod(y, gap) - gap * 1.5;
  return (
    <div
      className="canvas-dots"
      aria-hidden="true"
      style={{
        width: `calc(100% + ${3 * gap}px)`,
        height: `calc(100% + ${3 * gap}px)`,
        transform: `translate(${left}px, ${top}px)`,
        backgroundSize: `${gap}px ${gap}px`,
        backgroundImage: `radial-gradient(circle at center, var(--canvas-dot) ${radius}px, transparent ${radius + 0.5}px)`,
      }}
    />
  );
}
