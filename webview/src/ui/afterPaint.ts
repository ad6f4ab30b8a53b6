/**
 * Parts of the board that can wait (the outline of every node, the minimap) are drawn
 * just after the canvas has first been painted, so a big melody's cards appear without
 * waiting for them.
 */
import { useEffect, useState } from 'react';

/** False until the first frame after `ready` became true has been painted; true from then on. */
export function useAfterPaint(ready: boolean): boolean {
  const [painted, setPainted] = useState(false);
  useEffect(() => {
    if (!ready || painted) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A frame callback runs just before the paint; a task queued from it runs after it.
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => setPainted(true), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [ready, painted]);
  return painted;
}
