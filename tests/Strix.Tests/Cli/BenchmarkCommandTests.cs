using System.Text.Json;
using Strix.Cli.Commands;
using Strix.Data;
using Strix.Models;
using Strix.Tests.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Cli;

public class BenchmarkCommandTests
{
    [SkippableFact]
    public void Every_format_gets_size_map_and_latency_and_the_table_is_saved()
    {
        var data = TestPaths.Asset("coco8.yaml");
        var config = DatasetConfig.Load(data);
        var dir = TestPaths.NewTempDir("strix-benchmark");
        var weights = Path.Combine(dir, "tiny.safetensors");
        using (var model = TinyModels.WithStatistics(80, seed: 1))
        {
            // A fresh head predicts almost nothing above conf 0.001 (prior bias); zero the class bias so it detects plenty.
            using (no_grad())
                foreach (var (name, p) in model.named_parameters())
                    if (name.Contains(".cv3.") && name.EndsWith(".2.bias")) p.zero_();
            WeightsFile.Save(model, weights, ModelMetadata.For(model, config.Names, 64));
        }
        var command = new BenchmarkCommand();
        Assert.Equal(0, command.Run(new[] { $"model={weights}", $"data={data}", "imgsz=64", "batch=2", "runs=3", "workers=0", $"project={dir}", "name=b" }));
        var rows = command.LastRows!;
        Assert.Equal(new[] { "TorchSharp fp32", "TorchSharp bf16-mixed", "ONNX Runtime fp32", "ONNX Runtime fp16", "ONNX Runtime INT8 (QDQ, min-max)", "ONNX Runtime fp32 + NMS in graph" }, rows.Select(r => r.Format));
        var torch = rows[0].Map!.Value;
        Assert.InRange(rows[2].Map!.Value, torch - 1e-3, torch + 1e-3);           // the same fused network in ONNX Runtime
        Assert.InRange(rows[3].Map!.Value, torch - 0.05, torch + 0.05);           // float16 weights
        Assert.NotNull(rows[4].Map);                                               // INT8, calibrated on the same images
        Assert.InRange(rows[4].SizeMb / rows[2].SizeMb, 0.2, 0.45);     // int8 weights plus per-channel scales
        Assert.Null(rows[5].Map);                                                  // NMS in the graph: no low-score detections to rank
        Assert.InRange(rows[3].SizeMb / rows[2].SizeMb, 0.4, 0.6);
        Assert.All(rows, r => Assert.True(r.Batch1.P50 > 0 && r.Batch1.P90 >= r.Batch1.P50 && r.BatchN.P90 >= r.BatchN.P50, r.Format));
        var run = Path.Combine(dir, "b");
        Assert.Equal(7, File.ReadAllLines(Path.Combine(run, "benchmark.csv")).Length);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "benchmark.json")));
        Assert.Equal(6, json.RootElement.GetProperty("rows").GetArrayLength());
    }
}
