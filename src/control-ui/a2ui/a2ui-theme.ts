/**
 * The theme handed to the A2UI components (they read class maps from it for every element).
 * Plain: no utility classes, the components' own structural styles do the layout; a few
 * additional inline styles give buttons and cards a visible shape.
 */
import type { Types } from "@a2ui/lit/v0_8";

type ClassMap = Record<string, boolean>;
const none = (): ClassMap => ({});
const labelled = () => ({ container: none(), element: none(), label: none() });

/** The default theme. */
export const DEFAULT_THEME: Types.Theme = {
  components: {
    AudioPlayer: none(),
    Button: none(),
    Card: none(),
    Column: none(),
    CheckBox: labelled(),
    DateTimeInput: labelled(),
    Divider: none(),
    Image: { all: none(), icon: none(), avatar: none(), smallFeature: none(), mediumFeature: none(), largeFeature: none(), header: none() },
    Icon: none(),
    List: none(),
    Modal: { backdrop: none(), element: none() },
    MultipleChoice: labelled(),
    Row: none(),
    Slider: labelled(),
    Tabs: { container: none(), element: none(), controls: { all: none(), selected: none() } },
    Text: { all: none(), h1: none(), h2: none(), h3: none(), h4: none(), h5: none(), caption: none(), body: none() },
    TextField: labelled(),
    Video: none(),
  },
  elements: {
    a: none(),
    audio: none(),
    body: none(),
    button: none(),
    h1: none(),
    h2: none(),
    h3: none(),
    h4: none(),
    h5: none(),
    iframe: none(),
    input: none(),
    p: none(),
    pre: none(),
    textarea: none(),
    video: none(),
  },
  markdown: { p: [], h1: [], h2: [], h3: [], h4: [], h5: [], ul: [], ol: [], li: [], a: [], strong: [], em: [] },
  additionalStyles: {
    Button: { padding: "0.5rem 1rem", "border-radius": "0.5rem", border: "1px solid #888", cursor: "pointer" },
    Card: { padding: "1rem", "border-radius": "0.75rem", border: "1px solid #8884" },
    // Per usage hint; the renderer applies these only when every hint (h1–h6, body, caption) is present.
    Text: {
      h1: { "font-size": "2rem", "font-weight": "600" },
      h2: { "font-size": "1.5rem", "font-weight": "600" },
      h3: { "font-size": "1.25rem", "font-weight": "600" },
      h4: { "font-size": "1.1rem", "font-weight": "600" },
      h5: { "font-size": "1rem", "font-weight": "600" },
      h6: { "font-size": "0.9rem", "font-weight": "600" },
      body: {},
      caption: { "font-size": "0.8rem", opacity: "0.7" },
    } as NonNullable<Types.Theme["additionalStyles"]>["Text"],
  },
};
