using System.Runtime.InteropServices;

namespace Strix.Engine;

/// <summary>
/// While training, SIGINT (Ctrl+C) and SIGTERM do not kill the process: the first one asks the trainer
/// to stop after the current batch, write a resumable <c>last</c> checkpoint and return normally; a
/// second one terminates at once (the last checkpoint on disk stays intact: writes are atomic).
/// SIGKILL cannot be caught; a run killed that way resumes from its last checkpoint.
/// </summary>
internal sealed class SignalGuard : IDisposable
{
    readonly List<PosixSignalRegistration> _registrations = new();

    SignalGuard(Trainer trainer)
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, ctx =>
                {
                    if (trainer.StopRequested) return; // second signal: default action (terminate)
                    ctx.Cancel = true;
                    trainer.RequestStop(ctx.Signal.ToString());
                    Console.Error.WriteLine($"\n{ctx.Signal} received: stopping after this batch and saving a checkpoint (send it again to abort)");
                }));
            }
            catch (PlatformNotSupportedException) { /* e.g. SIGTERM on some platforms */ }
        }
    }

    public static SignalGuard Register(Trainer trainer) => new(trainer);

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _registrations.Clear();
    }
}
