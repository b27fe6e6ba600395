global using Xunit;

// Tests seed and draw from libtorch's process-wide generator (model initialisation, manual_seed):
// run them one at a time so that one test's draws never shift another's.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
