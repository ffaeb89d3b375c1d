using KvTier.Core;

namespace KvTier.Core.Tests;

/// <summary>Preset lookup by name.</summary>
public sealed class ModelPresetTests
{
    [Theory]
    [InlineData("llama-3.1-8b")]
    [InlineData("LLAMA-3.1-8B")]
    [InlineData("Llama-3.1-8b")]
    public void Get_is_case_insensitive(string name)
    {
        var preset = ModelPreset.Get(name);

        Assert.Equal("llama-3.1-8b", preset.Name);
        Assert.Same(ModelPreset.All.Single(p => p.Name == "llama-3.1-8b"), preset);
    }

    [Fact]
    public void Unknown_name_throws_naming_it_and_every_preset()
    {
        var error = Assert.Throws<ArgumentException>(() => ModelPreset.Get("gpt-5"));

        Assert.Contains("gpt-5", error.Message, StringComparison.Ordinal);
        foreach (var preset in ModelPreset.All)
        {
            Assert.Contains(preset.Name, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Preset_names_are_unique_ignoring_case()
    {
        var names = ModelPreset.All.Select(p => p.Name).ToArray();

        Assert.Equal(names.Length, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void Query_heads_are_a_multiple_of_kv_heads_and_fit_the_hidden_size()
    {
        foreach (var p in ModelPreset.All)
        {
            Assert.Equal(0, p.QueryHeads % p.Geometry.KvHeads);
            Assert.Equal(p.Hidden, p.QueryHeads * p.Geometry.HeadDim);
        }
    }
}
