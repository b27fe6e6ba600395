using System.Text.Json.Nodes;

namespace Strix.Engine.Callbacks;

/// <summary>
/// Stops training when the monitored metric has not improved for <see cref="Patience"/> epochs
/// (Ultralytics' rule: a value ≥ the best counts as an improvement in max mode; patience 0 disables).
/// Only epochs that were validated are judged.
/// </summary>
public sealed class EarlyStopping : Callback
{
    public EarlyStopping(string monitor, int patience, string mode = "max")
    {
        if (mode is not ("max" or "min")) throw new ArgumentException($"mode must be 'max' or 'min', not '{mode}'");
        Monitor = monitor;
        Patience = patience;
        Mode = mode;
    }

    public string Monitor { get; }
    public int Patience { get; }
    public string Mode { get; }
    public double? Best { get; private set; }
    public int BestEpoch { get; private set; }
    public bool Stopped { get; private set; }

    public override void OnTrainEpochEnd(Trainer trainer, StrixModule module)
    {
        if (!trainer.ValidatedThisEpoch || !trainer.CallbackMetrics.TryGetValue(Monitor, out var v) || double.IsNaN(v)) return;
        int epoch = trainer.Epoch + 1;
        if (Best is not double b || (Mode == "max" ? v >= b : v <= b)) { Best = v; BestEpoch = epoch; }
        if (Patience > 0 && epoch - BestEpoch >= Patience)
        {
            Stopped = true;
            trainer.Stop("early_stopping");
            trainer.Print($"Stopping training early as no improvement observed in last {Patience} epochs. " +
                $"Best results observed at epoch {BestEpoch}, best model saved as best.");
        }
    }

    public override JsonObject? StateDict() => new() { ["monitor"] = Monitor, ["best"] = Best, ["best_epoch"] = BestEpoch };

    public override void LoadStateDict(JsonObject state)
    {
        if ((string?)state["monitor"] != Monitor) return;
        Best = (double?)state["best"];
        BestEpoch = (int?)state["best_epoch"] ?? 0;
    }
}
