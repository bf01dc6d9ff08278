/** Styles shared by the Control UI's elements. */
import { css } from "lit";

export const baseStyles = css`
  :host { display: block; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 14px; color: var(--fg, #1d2330); }
  h2 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: #6a7385; margin: 0 0 0.6rem; display: flex; gap: 0.5rem; align-items: center; }
  .card { background: var(--card, #fff); border: 1px solid #e1e5ee; border-radius: 10px; padding: 0.9rem 1rem; min-width: 0; }
  .muted { color: #7b8496; }
  .row { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
  .pill { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; background: #eef1f7; font-size: 0.75rem; }
  .pill.ok { background: #dcf5e4; color: #17663a; }
  .pill.warn { background: #fff1d6; color: #8a5a00; }
  .pill.bad { background: #fde2e2; color: #9b1c1c; }
  button { font: inherit; padding: 0.3rem 0.8rem; border-radius: 7px; border: 1px solid #c5ccd9; background: #f7f8fb; cursor: pointer; }
  button.primary { background: #2f6fed; border-color: #2f6fed; color: #fff; }
  button.danger { color: #9b1c1c; }
  button:disabled { opacity: 0.5; cursor: default; }
  input, textarea { font: inherit; padding: 0.35rem 0.5rem; border: 1px solid #c5ccd9; border-radius: 7px; }
  ul { list-style: none; margin: 0; padding: 0; }
  li { padding: 0.35rem 0; border-top: 1px solid #f0f2f6; }
  li:first-child { border-top: none; }
  code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.8rem; }
  .error { color: #9b1c1c; }
`;
