using Spectre.Console;
using Strix.Engine;
using Strix.Engine.Callbacks;

namespace Strix.Tests.Engine;

public class ProgressBarTests
{
    [Fact]
    public void Plain_lines_when_not_interactive()
    {
        var output = new StringWriter();
        var bar = new ProgressBar(interactive: false, plain: output, plainInterval: TimeSpan.FromHours(1));
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 2 }, new[] { bar });
        trainer.Fit(new PointClassifier(), new PointData(64, 16), new PointData(32, 16));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("Epoch") && l.Contains("loss"));
        // One line per finished bar: 2 training epochs + 2 validations (the interval is long).
        Assert.Equal(2, lines.Count(l => l.TrimStart().StartsWith("1/2") || l.TrimStart().StartsWith("2/2")));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("2/2") && l.Contains("100% 4/4") && l.Contains("it/s"));
        Assert.Equal(2, lines.Count(l => l.TrimStart().StartsWith("validating")));
    }

    [Fact]
    public void Live_bars_render_through_spectre()
    {
        var sink = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(sink),
        });
        var bar = new ProgressBar(console, interactive: true);
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 1 }, new[] { bar });
        trainer.Fit(new PointClassifier(), new PointData(64, 16), new PointData(32, 16));
        var text = sink.ToString();
        Assert.Contains("Epoch", text);
        Assert.Contains("4/4", text);
        Assert.Contains("it/s", text);
    }

    [Fact]
    public void Header_and_row_align_in_eleven_columns()
    {
        var m = new[] { KeyValuePair.Create("train/box_loss", 1.23456), KeyValuePair.Create("Instances", 32.0) };
        Assert.Equal("      Epoch   box_loss  Instances", ProgressBar.Header("Epoch", m));
        Assert.Equal("      1/100      1.235         32", ProgressBar.Row("1/100", m));
    }
}
