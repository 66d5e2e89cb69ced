/**
 * The user's light transform, resolved at synth time to `transforms/light/<stage_a_transform>.ts` of the project
 * (`USER_TRANSFORM_MODULE` in the contract; see `src/bundling`).
 */
declare module 'sdlf:user-transform' {
  import type { LightTransform } from '../transform/types.js';

  const transform: LightTransform;
  export default transform;
}
