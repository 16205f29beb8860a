// Gradients of tfjs kernels with several outputs, re-registered where tfjs's own fail (any backend).
import * as tf from '@tensorflow/tfjs';

/**
 * tfjs's engine hands a kernel's gradient function a bare `dy` when the kernel produced one output and an array when it
 * produced several. Its Unpack (`tf.unstack`) and SplitV (`tf.split`) gradients always pass `dy` to stack / concat as a
 * list, so unstacking an axis of length 1, or splitting into one piece, fails in the backward pass with "Argument
 * tensors passed to stack must be a `Tensor[]`": MFN, MFM and Graph-MFN unstack the time axis step by step, so features
 * with one time step (utterance-level vectors) could not be trained. The same maths (stack / concat of the outputs'
 * gradients along the kernel's axis), taking a bare dy as a list of one.
 */
export function registerSingleOutputGradients(): void {
  const list = (dy: tf.Tensor | tf.Tensor[]) => (Array.isArray(dy) ? dy : [dy]);
  tf.registerGradient({
    kernelName: tf.Unpack,
    gradFunc: (dy, _saved, attrs) => ({ value: () => tf.stack(list(dy), (attrs as unknown as tf.UnpackAttrs).axis) }),
  });
  tf.registerGradient({
    kernelName: tf.SplitV,
    gradFunc: (dy, _saved, attrs) => ({ x: () => tf.concat(list(dy), (attrs as unknown as tf.SplitVAttrs).axis) }),
  });
}
